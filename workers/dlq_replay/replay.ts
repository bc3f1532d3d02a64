/**
 * Dead-letter replay: re-validates dead letters (their operator-corrected `fixed_value` if set,
 * else the raw bytes) against today's contract and moves those that now pass into
 * raw.order_events, exactly once. Each chunk is one transaction that locks its dead letters
 * (FOR UPDATE SKIP LOCKED, so concurrent replays never take the same row), lands the events and
 * marks the rows replayed; a replayed row is never examined again.
 */
import { Buffer } from "node:buffer";
import {
  isDataError,
  type Logger,
  type Pool,
  type PoolClient,
  validateMessage,
  withClient,
} from "../shared/mod.ts";

/** Which dead letters to re-examine (all conditions must hold; replayed rows never are). */
export interface ReplayFilters {
  errorClasses?: readonly string[] | undefined;
  /** first_seen_at at or after. */
  since?: Date | undefined;
  /** first_seen_at before. */
  until?: Date | undefined;
  ids?: readonly number[] | undefined;
  topic?: string | undefined;
  /** Examine at most this many rows. */
  limit?: number | undefined;
}

/** What a replay did. */
export interface ReplaySummary {
  examined: number;
  replayed: number;
  /** Now valid, but the event had landed already: marked replayed, recorded as duplicate. */
  duplicates: number;
  still_invalid: number;
  replayed_ids: number[];
  dry_run: boolean;
}

interface DeadLetterRow {
  id: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  message_key: string | null;
  value: Buffer | null;
  kafka_timestamp: Date | null;
}

/** Replays the dead letters matching `filters`. */
export async function replayDeadLetters(
  pool: Pool,
  filters: ReplayFilters,
  options: { logger: Logger; dryRun?: boolean; chunkSize?: number },
): Promise<ReplaySummary> {
  const dryRun = options.dryRun ?? false;
  const chunkSize = options.chunkSize ?? 500;
  const summary: ReplaySummary = {
    examined: 0,
    replayed: 0,
    duplicates: 0,
    still_invalid: 0,
    replayed_ids: [],
    dry_run: dryRun,
  };
  let afterId = 0;
  for (;;) {
    const remaining = (filters.limit ?? Infinity) - summary.examined;
    if (remaining <= 0) break;
    const rows = await withClient(pool, async (client) => {
      try {
        await client.query("begin");
        const chunk = await selectChunk(client, filters, afterId, Math.min(chunkSize, remaining));
        for (const row of chunk) {
          summary.examined++;
          const outcome = await replayOne(client, row);
          if (outcome.kind === "invalid") {
            summary.still_invalid++;
            options.logger.debug("Still invalid", { id: row.id, reason: outcome.reason });
          } else {
            if (outcome.kind === "landed") summary.replayed++;
            else summary.duplicates++;
            summary.replayed_ids.push(Number(row.id));
          }
        }
        await client.query(dryRun ? "rollback" : "commit");
        return chunk;
      } catch (error) {
        await client.query("rollback").catch(() => {});
        throw error;
      }
    });
    if (rows.length === 0) break;
    afterId = Number(rows.at(-1)!.id);
  }
  options.logger.info("Replay finished", { ...summary, replayed_ids: undefined });
  return summary;
}

async function selectChunk(
  client: PoolClient,
  filters: ReplayFilters,
  afterId: number,
  limit: number,
): Promise<DeadLetterRow[]> {
  const params: unknown[] = [afterId, limit];
  const where = ["replayed_at is null", "id > $1"];
  if (filters.errorClasses?.length) {
    params.push(filters.errorClasses);
    where.push(`error_class = any($${params.length}::text[])`);
  }
  if (filters.since) {
    params.push(filters.since);
    where.push(`first_seen_at >= $${params.length}`);
  }
  if (filters.until) {
    params.push(filters.until);
    where.push(`first_seen_at < $${params.length}`);
  }
  if (filters.ids?.length) {
    params.push(filters.ids);
    where.push(`id = any($${params.length}::bigint[])`);
  }
  if (filters.topic) {
    params.push(filters.topic);
    where.push(`topic = $${params.length}`);
  }
  const { rows } = await client.query<DeadLetterRow>(
    `select id, topic, kafka_partition, kafka_offset, message_key,
            coalesce(fixed_value, raw_value) as value, kafka_timestamp
     from raw.order_events_dead_letters
     where ${where.join(" and ")}
     order by id
     limit $2
     for update skip locked`,
    params,
  );
  return rows;
}

type Outcome =
  | { kind: "landed" | "duplicate"; eventId: string }
  | { kind: "invalid"; reason: string };

async function replayOne(client: PoolClient, row: DeadLetterRow): Promise<Outcome> {
  const validation = validateMessage(row.value, row.message_key);
  if (!validation.ok) return { kind: "invalid", reason: validation.message };
  const eventId = validation.event.event_id.toLowerCase();
  const envelope = [
    eventId,
    validation.text,
    row.topic,
    row.kafka_partition,
    row.kafka_offset,
    row.message_key,
    row.kafka_timestamp,
  ];
  await client.query("savepoint replay_row");
  try {
    const landed = await client.query(
      `insert into raw.order_events
         (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
       values ($1, $2::jsonb, $3, $4, $5, $6, $7)
       on conflict (event_id) do nothing
       returning event_id`,
      envelope,
    );
    const kind = landed.rowCount === 1 ? "landed" : "duplicate";
    if (kind === "duplicate") {
      await client.query(
        `insert into raw.order_events_duplicates
           (event_id, payload, topic, kafka_partition, kafka_offset, message_key,
            kafka_timestamp, dropped_by)
         values ($1, $2::jsonb, $3, $4, $5, $6, $7, 'dlq_replay')
         on conflict (event_id, topic, kafka_partition, kafka_offset) do nothing`,
        envelope,
      );
    }
    await client.query(
      `update raw.order_events_dead_letters
       set replayed_at = now(), replayed_event_id = $2
       where id = $1 and replayed_at is null`,
      [row.id, eventId],
    );
    await client.query("release savepoint replay_row");
    return { kind, eventId };
  } catch (error) {
    if (!isDataError(error)) throw error;
    await client.query("rollback to savepoint replay_row");
    return { kind: "invalid", reason: `PostgreSQL refused the event: ${(error as Error).message}` };
  }
}
