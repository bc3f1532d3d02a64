/**
 * Writes to PostgreSQL, as the loader role: the audit row of a run, the raw rows of a run in
 * one transaction (COPY the records, replace the interval's rows, mark the run succeeded), and
 * the rejects in a transaction of their own, so they stay when the run's data does not land.
 * Products and users are COPYed into temporary stages, then moved into the raw layout of
 * db/migrations/0007: each payload once per (record_id, payload_hash), the response's envelope
 * once, plus a narrow manifest row per record per interval in a monthly partition created
 * beforehand (docs/decisions/0027).
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import {
  copyEscape,
  type Pool,
  type PoolClient,
  withClient,
  withTransaction,
} from "../shared/mod.ts";
import type { Interval } from "./interval.ts";
import { jsonbRefuses, jsonbSafe, textSafe } from "./jsonb_text.ts";
import type { Entity, RejectedRecord, ValidRecord } from "./schemas.ts";

/** The table each entity's COPY writes: carts their raw table, snapshots a temporary stage. */
const COPY_TABLES: Record<Entity, string> = {
  products: "pg_temp.products_landing",
  users: "pg_temp.users_landing",
  carts: "raw.fakestore_carts",
};

/** Where a snapshot entity's stage is moved: its payloads and its manifest. */
const SNAPSHOT_TABLES: Partial<Record<Entity, { payloads: string; manifest: string }>> = {
  products: {
    payloads: "raw.fakestore_product_payloads",
    manifest: "raw.fakestore_product_manifest",
  },
  users: { payloads: "raw.fakestore_user_payloads", manifest: "raw.fakestore_user_manifest" },
};

const RAW_COLUMNS = [
  "load_id",
  "record_id",
  "payload",
  "payload_hash",
  "endpoint",
  "request_url",
  "http_status",
  "interval_start",
  "interval_end",
  "extracted_at",
] as const;

/** Identifies a run in every table it writes. */
export interface RunIdentity {
  loadId: string;
  interval: Interval;
  asOfDate: string;
  sourceBaseUrl: string;
  startedAt: Date;
}

/** Per entity: how many records came, landed and were rejected. */
export type Counts = Partial<Record<Entity, Record<string, number>>>;

/** How a run ended, for its audit row. */
export interface RunSummary {
  counts: Counts;
  drift: Partial<Record<Entity, Record<string, number>>>;
  asOfHonoured: boolean | null;
  finishedAt: Date;
}

/** One entity's records from one response, ready to land (as they stream in, or all at once). */
export interface LandBatch {
  entity: Entity;
  endpoint: string;
  requestUrl: string;
  httpStatus: number;
  extractedAt: Date;
  records: Iterable<ValidRecord> | AsyncIterable<ValidRecord>;
}

/** What a run may do inside its landing transaction. */
export interface Landing {
  /** Replaces the interval's rows of `batch.entity` with the batch; returns the rows copied. */
  copy(batch: LandBatch): Promise<number>;
  /** The payloads this run copied for `recordIds` of `entity` (to report a conflict's first copy). */
  copiedPayloads(entity: Entity, recordIds: number[]): Promise<Map<number, unknown>>;
  /** Runs `work` in a savepoint: if it throws, what it wrote is undone and the rest kept. */
  undoable<T>(work: () => Promise<T>): Promise<T>;
}

/** Inserts the run's audit row (status running); reports who we are connected as. */
export async function startRun(
  pool: Pool,
  run: RunIdentity,
): Promise<{ user: string; superuser: boolean }> {
  await pool.query(
    `insert into audit.extract_runs
         (load_id, interval_start, interval_end, as_of_date, source_base_url, status, started_at)
     values ($1, $2, $3, $4, $5, 'running', $6)`,
    [
      run.loadId,
      run.interval.start.toISOString(),
      run.interval.end.toISOString(),
      run.asOfDate,
      run.sourceBaseUrl,
      run.startedAt.toISOString(),
    ],
  );
  const { rows } = await pool.query<{ user: string; superuser: boolean }>(
    "select current_user as user, rolsuper as superuser from pg_roles where rolname = current_user",
  );
  return rows[0] ?? { user: "unknown", superuser: false };
}

/** COPY text is sent in chunks of about this many characters: few writes, little held. */
const COPY_CHUNK_CHARS = 256 * 1024;

async function* copyLines(
  run: RunIdentity,
  batch: LandBatch,
  counter: { rows: number },
): AsyncGenerator<string> {
  const fixed = [
    copyEscape(batch.endpoint),
    copyEscape(batch.requestUrl),
    String(batch.httpStatus),
    run.interval.start.toISOString(),
    run.interval.end.toISOString(),
    batch.extractedAt.toISOString(),
  ].join("\t");
  let chunk = "";
  for await (const record of batch.records) {
    chunk += `${run.loadId}\t${record.recordId}\t${copyEscape(record.payloadJson)}\t` +
      `${record.payloadHash}\t${fixed}\n`;
    counter.rows++;
    if (chunk.length >= COPY_CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk.length > 0) yield chunk;
}

async function copyBatch(client: PoolClient, run: RunIdentity, batch: LandBatch): Promise<number> {
  const sql = `copy ${COPY_TABLES[batch.entity]} (${RAW_COLUMNS.join(", ")}) from stdin`;
  const sink = client.query(copyFrom(sql));
  const counter = { rows: 0 };
  // One chunk in flight at a time: the response is read only as fast as COPY takes it.
  await pipeline(Readable.from(copyLines(run, batch, counter), { highWaterMark: 1 }), sink);
  return counter.rows;
}

/**
 * Creates the manifests' monthly partitions for `interval` and the months ahead, in a short
 * transaction of its own: partition DDL locks the manifest, which the landing must not hold.
 * Returns how many partitions it created (0 on almost every day).
 */
export async function ensurePartitions(pool: Pool, interval: Interval): Promise<number> {
  const { rows } = await pool.query<{ created: number }>(
    "select raw.ensure_manifest_partitions($1, $2) as created",
    [interval.start.toISOString(), interval.end.toISOString()],
  );
  return rows[0]?.created ?? 0;
}

/** Empties what the run replaces: the interval's carts, or a fresh stage for a snapshot. */
async function prepare(client: PoolClient, entity: Entity, intervalStart: string): Promise<void> {
  if (SNAPSHOT_TABLES[entity] === undefined) {
    await client.query(`delete from ${COPY_TABLES[entity]} where interval_start = $1`, [
      intervalStart,
    ]);
    return;
  }
  // `if not exists` + truncate: a body re-read after a savepoint rollback copies again.
  await client.query(
    `create temp table if not exists ${COPY_TABLES[entity]} (
         load_id uuid not null, record_id bigint not null, payload jsonb not null,
         payload_hash text not null, endpoint text not null, request_url text not null,
         http_status integer not null, interval_start timestamptz not null,
         interval_end timestamptz not null, extracted_at timestamptz not null
     ) on commit drop`,
  );
  await client.query(`truncate ${COPY_TABLES[entity]}`);
}

/**
 * Moves a snapshot stage into the raw layout: the interval's manifest rows are replaced, new
 * payloads added (a payload already stored keeps its first load), the response's envelope
 * stored once (raw.fakestore_responses), one narrow manifest row per record naming its payload
 * and that response.
 */
async function moveSnapshot(
  client: PoolClient,
  entity: Entity,
  intervalStart: string,
): Promise<void> {
  const tables = SNAPSHOT_TABLES[entity];
  if (tables === undefined) return;
  const stage = COPY_TABLES[entity];
  await client.query(`delete from ${tables.manifest} where interval_start = $1`, [intervalStart]);
  await client.query(
    `insert into ${tables.payloads}
         (record_id, payload_hash, payload, first_load_id, first_extracted_at)
     select record_id, payload_hash, payload, load_id, extracted_at from ${stage}
     on conflict (record_id, payload_hash) do nothing`,
  );
  await client.query(
    `with response as (
         insert into raw.fakestore_responses
             (load_id, entity, endpoint, request_url, http_status, interval_start, interval_end,
              extracted_at)
         select distinct load_id, cast($1 as text), endpoint, request_url, http_status,
                interval_start, interval_end, extracted_at
         from ${stage}
         returning response_id
     )
     insert into ${tables.manifest} (interval_start, record_id, payload_id, response_id)
     select stage.interval_start, stage.record_id, payloads.payload_id, response.response_id
     from ${stage} as stage
     inner join ${tables.payloads} as payloads
         on payloads.record_id = stage.record_id and payloads.payload_hash = stage.payload_hash
     cross join response`,
    [entity],
  );
}

/**
 * Lands a run: first ensures the manifests' partitions (own transaction), then in one
 * transaction `land` copies each entity's records (carts replace the interval's rows; products
 * and users go to a stage that is then moved into payloads and manifest) and returns the run's
 * summary; the audit row is then marked succeeded. If `land` throws, nothing lands. The caller
 * holds the interval's run lock (run_lock.ts), so runs of one interval are serialised.
 */
export async function landRun(
  pool: Pool,
  run: RunIdentity,
  land: (landing: Landing) => Promise<RunSummary>,
): Promise<void> {
  await ensurePartitions(pool, run.interval);
  const intervalStart = run.interval.start.toISOString();
  await withTransaction(pool, async (client) => {
    const copied = new Set<Entity>();
    const summary = await land({
      copy: async (batch) => {
        await prepare(client, batch.entity, intervalStart);
        copied.add(batch.entity);
        return await copyBatch(client, run, batch);
      },
      copiedPayloads: async (entity, recordIds) => {
        const { rows } = await client.query<{ record_id: number; payload: unknown }>(
          `select record_id, payload from ${COPY_TABLES[entity]}
           where load_id = $1 and record_id = any($2::bigint[])`,
          [run.loadId, recordIds],
        );
        return new Map(rows.map((row) => [Number(row.record_id), row.payload]));
      },
      undoable: async (work) => {
        await client.query("savepoint undoable");
        try {
          const result = await work();
          await client.query("release savepoint undoable");
          return result;
        } catch (error) {
          await client.query("rollback to savepoint undoable");
          throw error;
        }
      },
    });
    for (const entity of copied) await moveSnapshot(client, entity, intervalStart);
    await finish(client, run, { status: "succeeded", summary, error: null });
  });
}

/**
 * Stores the rejected records (secrets already gone) in their own transaction. Any input fits:
 * payload gets U+FFFD for what jsonb refuses, payload_text then keeps the record exactly.
 */
export async function recordRejects(
  pool: Pool,
  { loadId, rejects }: { loadId: string; rejects: Array<RejectedRecord & { entity: Entity }> },
): Promise<void> {
  if (rejects.length === 0) return;
  await withTransaction(pool, async (client) => {
    await client.query(
      `insert into audit.extract_rejects
           (load_id, entity, record_key, payload, payload_text, reason)
       select $1, entity, record_key, cast(payload_json as jsonb), payload_text, reason
       from jsonb_to_recordset($2::jsonb)
           as rejects (
               entity text, record_key text, payload_json text, payload_text text, reason text
           )`,
      [
        loadId,
        JSON.stringify(rejects.map((reject) => {
          const json = reject.payload == null ? null : JSON.stringify(reject.payload);
          const refused = json !== null && jsonbRefuses(json);
          return {
            entity: reject.entity,
            record_key: textSafe(reject.recordKey),
            payload_json: refused ? jsonbSafe(json) : json,
            payload_text: refused ? json : null,
            reason: textSafe(reject.reason),
          };
        })),
      ],
    );
  });
}

/** Marks the run failed with `error`. */
export async function failRun(
  pool: Pool,
  run: RunIdentity,
  { summary, error }: { summary: RunSummary; error: string },
): Promise<void> {
  await withClient(pool, (client) => finish(client, run, { status: "failed", summary, error }));
}

async function finish(
  client: PoolClient,
  run: RunIdentity,
  { status, summary, error }: {
    status: "succeeded" | "failed";
    summary: RunSummary;
    error: string | null;
  },
): Promise<void> {
  await client.query(
    `update audit.extract_runs
     set status = $2, finished_at = $3, duration_ms = $4, counts = $5, schema_drift = $6,
         as_of_honoured = $7, error = $8
     where load_id = $1`,
    [
      run.loadId,
      status,
      summary.finishedAt.toISOString(),
      summary.finishedAt.getTime() - run.startedAt.getTime(),
      JSON.stringify(summary.counts),
      // Drift keys are field names as received: they may hold what jsonb refuses.
      jsonbSafe(JSON.stringify(summary.drift)),
      summary.asOfHonoured,
      error === null ? null : textSafe(error),
    ],
  );
}
