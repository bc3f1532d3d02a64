/**
 * Lands one Kafka batch (one partition) in PostgreSQL, exactly once: in ONE transaction it
 * locks the partition's row in raw.consumer_offsets, skips what is below the stored offset,
 * writes valid events (COPY straight into raw.order_events; if an event had landed before,
 * again through a temporary stage with INSERT … ON CONFLICT DO NOTHING), dropped duplicates
 * and dead letters, and stores the partition's next offset (docs/decisions/0040, 0042).
 *
 * The row lock makes two consumers that both believe they own a partition (kafkajs has no
 * awaited rebalance hook) take turns; the second sees the first's offset and skips its rows.
 * A row PostgreSQL refuses (a data error) is isolated by splitting the write under savepoints
 * and dead-lettered, so one poison message never stalls its partition.
 */
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import type { ErrorClass, Validation } from "../shared/events.ts";
import { type Logger, type Pool, type PoolClient, RetriableError } from "../shared/mod.ts";

/** One Kafka message after validation, as the landing step needs it. */
export interface InboundMessage {
  offset: number;
  key: string | null;
  timestampMs: number;
  value: Uint8Array | null;
  validation: Validation;
}

/** The partition a batch belongs to, and the group whose offsets it advances. */
export interface BatchTarget {
  group: string;
  topic: string;
  partition: number;
}

/** What happened to a batch. `behind`/`gap`: nothing written; the caller seeks. */
export type LandingResult =
  | {
    kind: "landed";
    nextOffset: number;
    landed: number;
    duplicates: number;
    deadLetters: number;
    skipped: number;
  }
  | { kind: "behind"; storedOffset: number }
  | { kind: "gap"; storedOffset: number };

interface DeadLetter {
  offset: number;
  key: string | null;
  value: Uint8Array | null;
  text: string | null;
  errorClass: ErrorClass;
  message: string;
  timestampMs: number;
}

interface ValidRow {
  eventId: string;
  offset: number;
  key: string;
  value: Uint8Array | null;
  text: string;
  timestampMs: number;
}

const STAGE_DDL = `create temporary table if not exists order_events_stage (
    event_id uuid not null,
    payload jsonb not null,
    kafka_offset bigint not null,
    message_key text,
    kafka_timestamp_ms bigint not null
) on commit delete rows`;

const COPY_STAGE = "copy pg_temp.order_events_stage " +
  "(event_id, payload, kafka_offset, message_key, kafka_timestamp_ms) from stdin";

// Lands the stage; rows whose event_id is already in raw.order_events become duplicates.
// `%TARGET%` is replaced by the escaped topic and partition.
const STAGE_TO_TABLES = `landed as (
    insert into raw.order_events
        (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
    select
        event_id, payload, %TARGET%, kafka_offset, message_key,
        to_timestamp(kafka_timestamp_ms / 1000.0)
    from pg_temp.order_events_stage
    order by kafka_offset
    on conflict do nothing
    returning kafka_offset
),

dropped as (
    insert into raw.order_events_duplicates
        (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
    select
        stage.event_id, stage.payload, %TARGET%, stage.kafka_offset, stage.message_key,
        to_timestamp(stage.kafka_timestamp_ms / 1000.0)
    from pg_temp.order_events_stage as stage
    where not exists (select from landed where landed.kafka_offset = stage.kafka_offset)
    on conflict do nothing
    returning kafka_offset
)`;

const preparedClients = new WeakSet<PoolClient>();

/** An attempt rolled back because an event_id had landed already: retry through the stage. */
const UNIQUE_VIOLATION = Symbol("unique violation");
/** An attempt rolled back because PostgreSQL refused a row: retry with savepoints. */
const DATA_ERROR = Symbol("data error");

/** How an attempt writes the valid events (see `attempt`). */
type Mode = "direct" | "stage" | "split";

/** Lands `messages` (one partition, ascending offsets) in one transaction. */
export async function landBatch(
  pool: Pool,
  target: BatchTarget,
  messages: readonly InboundMessage[],
  options: { logger: Logger; acceptGapFrom?: number | undefined },
): Promise<LandingResult> {
  if (messages.length === 0) throw new RangeError("landBatch needs at least one message");
  const client = await pool.connect();
  let failure: unknown = undefined;
  // A checked-out client has no error listener (pg-pool removes its idle one): a server that
  // goes away between two queries would otherwise crash the process with an unhandled error.
  let connectionError: Error | undefined;
  const onClientError = (error: Error) => (connectionError ??= error);
  client.on("error", onClientError);
  try {
    if (!preparedClients.has(client)) {
      await client.query(STAGE_DDL);
      preparedClients.add(client);
    }
    // Most batches have no event that already landed: COPY them straight into the table.
    const direct = await attempt(client, target, messages, { ...options, mode: "direct" });
    if (direct === UNIQUE_VIOLATION) {
      const staged = await attempt(client, target, messages, { ...options, mode: "stage" });
      if (staged !== DATA_ERROR) return staged as LandingResult;
    } else if (direct !== DATA_ERROR) {
      return direct;
    }
    options.logger.warn("PostgreSQL refused a row: isolating it", { ...target });
    return await attempt(client, target, messages, { ...options, mode: "split" }) as LandingResult;
  } catch (error) {
    failure = error;
    await client.query("rollback").catch(() => {});
    if (connectionError !== undefined || /not queryable/i.test(String(error))) {
      // The transaction died with its connection: nothing was committed, so a retry is safe.
      throw new RetriableError("Lost the PostgreSQL connection while landing", { cause: error });
    }
    throw error;
  } finally {
    client.removeListener("error", onClientError);
    // A client whose connection failed must not go back to the pool.
    const broken = connectionError ?? (isConnectionLevel(failure) ? failure as Error : undefined);
    client.release(broken);
  }
}

/**
 * One transaction, in one of three modes:
 * - direct: COPY the valid events straight into raw.order_events. Three round trips: BEGIN
 *   with the offset lock, COPY, the offset with COMMIT. The unique index on event_id still
 *   guards: an event that landed before fails the COPY, and the attempt answers
 *   UNIQUE_VIOLATION after rolling back.
 * - stage: COPY into the temporary stage, then INSERT … ON CONFLICT DO NOTHING, recording the
 *   rows it skips as duplicates, in the same statement as the offset, with COMMIT.
 * - split: as stage, but under savepoints, halving the rows until those PostgreSQL refuses are
 *   isolated as dead letters.
 * A data error in direct or stage mode rolls back and answers DATA_ERROR.
 */
async function attempt(
  client: PoolClient,
  target: BatchTarget,
  messages: readonly InboundMessage[],
  options: { logger: Logger; acceptGapFrom?: number | undefined; mode: Mode },
): Promise<LandingResult | typeof UNIQUE_VIOLATION | typeof DATA_ERROR> {
  const first = messages[0]!;
  const last = messages.at(-1)!;
  const group = client.escapeLiteral(target.group);
  const topic = client.escapeLiteral(target.topic);
  const partition = Math.trunc(target.partition);
  const nextOffset = last.offset + 1;
  const stored = await lockOffset(client, { group, topic, partition }, first.offset);
  if (stored > last.offset) {
    await client.query("rollback");
    return { kind: "behind", storedOffset: stored };
  }
  if (stored < first.offset && options.acceptGapFrom !== stored) {
    await client.query("rollback");
    return { kind: "gap", storedOffset: stored };
  }
  if (stored < first.offset) {
    options.logger.warn("Accepting an offset gap Kafka confirmed after a seek", {
      ...target,
      from: stored,
      to: first.offset,
    });
  }
  const fresh = messages.filter((message) => message.offset >= stored);
  const plan = classify(fresh);
  const storeOffset = `insert into raw.consumer_offsets
        (consumer_group, topic, kafka_partition, next_offset)
    values (${group}, ${topic}, ${partition}, ${nextOffset})
    on conflict (consumer_group, topic, kafka_partition)
    do update set next_offset = excluded.next_offset, updated_at = now()`;
  let landed = 0;
  let dropped = 0;
  if (options.mode !== "split") {
    try {
      if (plan.inBatchDuplicates.length > 0) {
        await insertDuplicates(client, target, plan.inBatchDuplicates);
      }
      if (plan.deadLetters.length > 0) await insertDeadLetters(client, target, plan.deadLetters);
      if (options.mode === "direct") {
        if (plan.valid.length > 0) await copyDirect(client, target, plan.valid);
        await client.query(`${storeOffset}; commit`);
        landed = plan.valid.length;
      } else {
        if (plan.valid.length > 0) await copyStage(client, plan.valid);
        const results = await client.query(
          `with ${STAGE_TO_TABLES.replaceAll("%TARGET%", `${topic}, ${partition}`)},
          stored as (${storeOffset} returning 1)
          select
              (select count(*) from landed)::int as landed,
              (select count(*) from dropped)::int as dropped,
              (select count(*) from stored)::int as stored;
          commit`,
        ) as unknown as Array<{ rows: Array<{ landed: number; dropped: number }> }>;
        const counts = results[0]?.rows[0];
        landed = counts?.landed ?? 0;
        dropped = counts?.dropped ?? 0;
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (options.mode === "direct" && code === "23505") {
        await client.query("rollback");
        return UNIQUE_VIOLATION;
      }
      if (!isRowDataError(error)) throw error;
      await client.query("rollback");
      return DATA_ERROR;
    }
  } else {
    const refused = new Map<string, DeadLetter>();
    const written = await writeValid(client, target, plan.valid, { dirty: false }, refused);
    landed = written.landed;
    dropped = written.dropped;
    plan.deadLetters.push(...refused.values());
    // A repeat of a refused event is refused too (same bytes); the others are duplicates.
    const repeats = plan.inBatchDuplicates.filter((row) => !refused.has(row.eventId));
    for (const row of plan.inBatchDuplicates) {
      const original = refused.get(row.eventId);
      if (original) {
        plan.deadLetters.push({ ...original, offset: row.offset, timestampMs: row.timestampMs });
      }
    }
    plan.inBatchDuplicates = repeats;
    if (plan.inBatchDuplicates.length > 0) {
      await insertDuplicates(client, target, plan.inBatchDuplicates);
    }
    if (plan.deadLetters.length > 0) await insertDeadLetters(client, target, plan.deadLetters);
    await client.query(`${storeOffset}; commit`);
  }
  return {
    kind: "landed",
    nextOffset,
    skipped: messages.length - fresh.length,
    landed,
    duplicates: dropped + plan.inBatchDuplicates.length,
    deadLetters: plan.deadLetters.length,
  };
}

/**
 * BEGIN and lock the partition's offset row (creating it at `firstOffset` when new); returns
 * the stored next offset. Arguments are escaped literals: one simple-protocol round trip.
 */
async function lockOffset(
  client: PoolClient,
  target: { group: string; topic: string; partition: number },
  firstOffset: number,
): Promise<number> {
  const select = `select next_offset from raw.consumer_offsets
     where consumer_group = ${target.group} and topic = ${target.topic}
       and kafka_partition = ${target.partition}
     for update`;
  const results = await client.query(`begin; ${select}`) as unknown as Array<
    { rows: Array<{ next_offset: string }> }
  >;
  let row = results[1]?.rows[0];
  if (row === undefined) {
    // A concurrent first batch blocks on this insert until the other transaction ends.
    await client.query(
      `insert into raw.consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
       values (${target.group}, ${target.topic}, ${target.partition}, ${firstOffset})
       on conflict do nothing`,
    );
    row = (await client.query<{ next_offset: string }>(select)).rows[0];
  }
  if (row === undefined) {
    throw new Error(`Offset row of ${target.topic}/${target.partition} vanished`);
  }
  return Number(row.next_offset);
}

interface Plan {
  valid: ValidRow[];
  inBatchDuplicates: ValidRow[];
  deadLetters: DeadLetter[];
}

/** Splits messages into valid rows (first of each event_id), repeats within the batch, and dead letters. */
function classify(messages: readonly InboundMessage[]): Plan {
  const plan: Plan = { valid: [], inBatchDuplicates: [], deadLetters: [] };
  const seen = new Set<string>();
  for (const message of messages) {
    const { validation } = message;
    if (!validation.ok) {
      plan.deadLetters.push({
        offset: message.offset,
        key: message.key,
        value: message.value,
        text: validation.text,
        errorClass: validation.errorClass,
        message: validation.message,
        timestampMs: message.timestampMs,
      });
      continue;
    }
    const row: ValidRow = {
      eventId: validation.event.event_id.toLowerCase(),
      offset: message.offset,
      key: validation.event.order_id,
      value: message.value,
      text: validation.text,
      timestampMs: message.timestampMs,
    };
    if (seen.has(row.eventId)) {
      plan.inBatchDuplicates.push(row);
    } else {
      seen.add(row.eventId);
      plan.valid.push(row);
    }
  }
  return plan;
}

/**
 * Writes `rows` under a savepoint; on a data error splits them in halves until the refused
 * rows are isolated, and turns each of those into a dead letter.
 */
async function writeValid(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
  stage: { dirty: boolean },
  refused: Map<string, DeadLetter>,
): Promise<{ landed: number; dropped: number }> {
  if (rows.length === 0) return { landed: 0, dropped: 0 };
  await client.query("savepoint land_rows");
  try {
    if (stage.dirty) await client.query("truncate pg_temp.order_events_stage");
    await copyStage(client, rows);
    const { rows: [counts] } = await client.query<{ landed: number; dropped: number }>(
      `with ${STAGE_TO_TABLES.replaceAll("%TARGET%", "$1::text, $2::integer")}
      select (select count(*) from landed)::int as landed, (select count(*) from dropped)::int as dropped`,
      [target.topic, target.partition],
    );
    await client.query("release savepoint land_rows");
    stage.dirty = true;
    return { landed: counts?.landed ?? 0, dropped: counts?.dropped ?? 0 };
  } catch (error) {
    if (!isRowDataError(error)) throw error;
    await client.query("rollback to savepoint land_rows");
    await client.query("release savepoint land_rows");
    if (rows.length === 1) {
      const row = rows[0]!;
      const pgError = error as { message?: string; code?: string };
      refused.set(row.eventId, {
        offset: row.offset,
        key: row.key,
        value: row.value,
        text: row.text,
        errorClass: "schema",
        message: `PostgreSQL refused the event: ${pgError.message} (SQLSTATE ${pgError.code})`,
        timestampMs: row.timestampMs,
      });
      return { landed: 0, dropped: 0 };
    }
    const middle = Math.ceil(rows.length / 2);
    const left = await writeValid(client, target, rows.slice(0, middle), stage, refused);
    const right = await writeValid(client, target, rows.slice(middle), stage, refused);
    return { landed: left.landed + right.landed, dropped: left.dropped + right.dropped };
  }
}

async function copyStage(client: PoolClient, rows: readonly ValidRow[]): Promise<void> {
  const lines: string[] = new Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    // COPY text format: backslash, newline, carriage return and tab are escaped. The event id
    // and key are validated uuids and need none.
    lines[index] = `${row.eventId}\t${copyEscape(row.text)}\t${row.offset}\t${row.key}\t${
      Math.trunc(row.timestampMs)
    }\n`;
  }
  const stream = client.query(copyFrom(COPY_STAGE));
  await pipeline(Readable.from([Buffer.from(lines.join(""))]), stream);
}

const COPY_DIRECT = "copy raw.order_events " +
  "(event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp) " +
  "from stdin";

async function copyDirect(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
): Promise<void> {
  const envelope = `\t${copyEscape(target.topic)}\t${Math.trunc(target.partition)}\t`;
  const lines: string[] = new Array(rows.length);
  // Messages of one produce request share their timestamp: format each distinct one once.
  let lastMs = NaN;
  let lastIso = "";
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    if (row.timestampMs !== lastMs) {
      lastMs = row.timestampMs;
      lastIso = new Date(lastMs).toISOString();
    }
    lines[index] = `${row.eventId}\t${
      copyEscape(row.text)
    }${envelope}${row.offset}\t${row.key}\t${lastIso}\n`;
  }
  const stream = client.query(copyFrom(COPY_DIRECT));
  await pipeline(Readable.from([Buffer.from(lines.join(""))]), stream);
}

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Escapes `text` for a field of COPY's text format. */
export function copyEscape(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\\n\r\t]/g, (char) => ESCAPES[char]!) : text;
}

async function insertDuplicates(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    const params: unknown[] = [target.topic, target.partition];
    const values = chunk.map((row) => {
      params.push(row.eventId, row.text, row.offset, row.key, new Date(row.timestampMs));
      const n = params.length;
      return `($${n - 4}::uuid, $${n - 3}::jsonb, $1, $2, $${n - 2}::bigint, $${
        n - 1
      }, $${n}::timestamptz)`;
    });
    await client.query(
      `insert into raw.order_events_duplicates
         (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
       values ${values.join(", ")}
       on conflict do nothing`,
      params,
    );
  }
}

async function insertDeadLetters(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly DeadLetter[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const params: unknown[] = [target.topic, target.partition];
    const values = chunk.map((row) => {
      params.push(
        row.offset,
        row.key,
        row.value === null
          ? null
          : Buffer.from(row.value.buffer, row.value.byteOffset, row.value.byteLength),
        row.text,
        row.errorClass,
        storable(row.message),
        new Date(row.timestampMs),
      );
      const n = params.length;
      return `($1, $2, $${n - 6}::bigint, $${n - 5}, $${n - 4}::bytea, $${n - 3}, $${n - 2}, ` +
        `$${n - 1}, $${n}::timestamptz)`;
    });
    await client.query(
      `insert into raw.order_events_dead_letters
         (topic, kafka_partition, kafka_offset, message_key, raw_value, raw_text, error_class,
          error_message, kafka_timestamp)
       values ${values.join(", ")}
       on conflict (topic, kafka_partition, kafka_offset) do nothing`,
      params,
    );
  }
}

/** `text` with what PostgreSQL text cannot hold (NUL, unpaired surrogates) replaced. */
export function storable(text: string): string {
  return text.replaceAll("\u0000", "\uFFFD").toWellFormed();
}

/** A data error: PostgreSQL refused a value (SQLSTATE class 22) or hit a size limit (54). */
export function isRowDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("54"));
}

function isConnectionLevel(error: unknown): boolean {
  if (error === undefined) return false;
  const { severity, code } = (error ?? {}) as { severity?: unknown; code?: unknown };
  // An ERROR reported by the server leaves the connection usable; a FATAL, a shutdown
  // (57P..) or a socket error does not.
  const serverError = typeof severity === "string" && severity !== "FATAL" &&
    severity !== "PANIC" && typeof code === "string" && !code.startsWith("57P");
  return !serverError;
}
