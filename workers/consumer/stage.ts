/**
 * The fallback landing path through a temporary stage (docs/decisions/0042): rows COPYed into
 * `pg_temp.order_events_stage`, then `INSERT … ON CONFLICT DO NOTHING` into raw.order_events,
 * the rows it skips recorded as duplicates in the same statement. The stage is created once per
 * connection (`ON COMMIT DELETE ROWS`), which is why the landing keeps a set of prepared
 * clients. `writeSplit` is the data-error path of 0041: savepoints, halving until the rows
 * PostgreSQL refuses are isolated.
 */
import { isDataError, type PoolClient } from "../shared/mod.ts";
import { copyStage } from "./copy_rows.ts";
import { type BatchTarget, type DeadLetter, rowText, type ValidRow } from "./plan.ts";

const STAGE_DDL = `create temporary table if not exists order_events_stage (
    event_id uuid not null,
    payload jsonb not null,
    kafka_offset bigint not null,
    message_key text,
    kafka_timestamp_ms bigint not null
) on commit delete rows`;

// Lands the stage; rows whose event_id is already in raw.order_events elsewhere become
// duplicates. `%TOPIC%` and `%PARTITION%` are replaced by the escaped topic and partition.
const STAGE_TO_TABLES = `landed as (
    insert into raw.order_events
        (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
    select
        event_id, payload, %TOPIC%, %PARTITION%, kafka_offset, message_key,
        to_timestamp(kafka_timestamp_ms / 1000.0)
    from pg_temp.order_events_stage
    order by kafka_offset
    on conflict (event_id) do nothing
    returning kafka_offset
),

dropped as (
    insert into raw.order_events_duplicates
        (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
    select
        stage.event_id, stage.payload, %TOPIC%, %PARTITION%, stage.kafka_offset, stage.message_key,
        to_timestamp(stage.kafka_timestamp_ms / 1000.0)
    from pg_temp.order_events_stage as stage
    where
        not exists (select from landed where landed.kafka_offset = stage.kafka_offset)
        -- The same event at the same position is the same message read again (stored offsets
        -- reset, a new group): not a duplicate.
        and not exists (
            select from raw.order_events as event
            where
                event.event_id = stage.event_id
                and event.topic = %TOPIC%
                and event.kafka_partition = %PARTITION%
                and event.kafka_offset = stage.kafka_offset
        )
    on conflict (event_id, topic, kafka_partition, kafka_offset) do nothing
    returning kafka_offset
)`;

/** STAGE_TO_TABLES for one partition; `topic` and `partition` are SQL expressions. */
function stageToTables(topic: string, partition: string): string {
  return STAGE_TO_TABLES.replaceAll("%TOPIC%", topic).replaceAll("%PARTITION%", partition);
}

/** Rows that landed and rows dropped as already landed. */
export interface WriteCounts {
  landed: number;
  dropped: number;
}

// Clients whose connection has the stage table: a new connection (the pool replaced a broken
// one) is not in the set and creates it again.
const preparedClients = new WeakSet<PoolClient>();

/** Creates the temporary stage on `client`'s connection unless it has it already. */
export async function ensureStage(client: PoolClient): Promise<void> {
  if (preparedClients.has(client)) return;
  await client.query(STAGE_DDL);
  preparedClients.add(client);
}

/**
 * Lands `rows` through the stage, then runs `storeOffset` and COMMIT, all in one round trip
 * after the COPY. `topic` and `partition` are escaped literals.
 */
export async function landStagedAndCommit(
  client: PoolClient,
  rows: readonly ValidRow[],
  literals: { topic: string; partition: number; storeOffset: string },
): Promise<WriteCounts> {
  if (rows.length > 0) await copyStage(client, rows);
  const results = await client.query(
    `with ${stageToTables(literals.topic, String(literals.partition))},
    stored as (${literals.storeOffset} returning 1)
    select
        (select count(*) from landed)::int as landed,
        (select count(*) from dropped)::int as dropped,
        (select count(*) from stored)::int as stored;
    commit`,
  ) as unknown as Array<{ rows: Array<WriteCounts> }>;
  const counts = results[0]?.rows[0];
  return { landed: counts?.landed ?? 0, dropped: counts?.dropped ?? 0 };
}

/**
 * Writes `rows` through the stage under a savepoint; on a data error splits them in halves
 * until the refused rows are isolated, and records each of those in `refused` (by event_id)
 * as a `schema` dead letter.
 */
export async function writeSplit(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
  refused: Map<string, DeadLetter>,
  stage: { dirty: boolean } = { dirty: false },
): Promise<WriteCounts> {
  if (rows.length === 0) return { landed: 0, dropped: 0 };
  await client.query("savepoint land_rows");
  try {
    if (stage.dirty) await client.query("truncate pg_temp.order_events_stage");
    await copyStage(client, rows);
    const { rows: [counts] } = await client.query<WriteCounts>(
      `with ${stageToTables("$1::text", "$2::integer")}
      select (select count(*) from landed)::int as landed, (select count(*) from dropped)::int as dropped`,
      [target.topic, target.partition],
    );
    await client.query("release savepoint land_rows");
    stage.dirty = true;
    return { landed: counts?.landed ?? 0, dropped: counts?.dropped ?? 0 };
  } catch (error) {
    if (!isDataError(error)) throw error;
    await client.query("rollback to savepoint land_rows");
    await client.query("release savepoint land_rows");
    if (rows.length === 1) {
      const row = rows[0]!;
      const pgError = error as { message?: string; code?: string };
      refused.set(row.eventId, {
        offset: row.offset,
        key: row.key,
        value: row.value,
        text: rowText(row),
        errorClass: "schema",
        message: `PostgreSQL refused the event: ${pgError.message} (SQLSTATE ${pgError.code})`,
        timestampMs: row.timestampMs,
      });
      return { landed: 0, dropped: 0 };
    }
    const middle = Math.ceil(rows.length / 2);
    const left = await writeSplit(client, target, rows.slice(0, middle), refused, stage);
    const right = await writeSplit(client, target, rows.slice(middle), refused, stage);
    return { landed: left.landed + right.landed, dropped: left.dropped + right.dropped };
  }
}
