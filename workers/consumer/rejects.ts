/**
 * The two side tables a batch writes besides raw.order_events, in the batch's transaction:
 * dropped duplicates (raw.order_events_duplicates) and dead letters
 * (raw.order_events_dead_letters, docs/decisions/0041). Multi-row inserts in chunks, so one
 * statement stays under PostgreSQL's 65,535 parameters.
 */
import { Buffer } from "node:buffer";
import type { PoolClient } from "../shared/mod.ts";
import { type BatchTarget, type DeadLetter, rowText, type ValidRow } from "./plan.ts";

/** Records `rows` as duplicates dropped by the consumer (once per event and position). */
export async function insertDuplicates(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
): Promise<void> {
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    const params: unknown[] = [target.topic, target.partition];
    const values = chunk.map((row) => {
      params.push(row.eventId, rowText(row), row.offset, row.key, new Date(row.timestampMs));
      const n = params.length;
      return `($${n - 4}::uuid, $${n - 3}::jsonb, $1, $2, $${n - 2}::bigint, $${
        n - 1
      }, $${n}::timestamptz)`;
    });
    await client.query(
      `insert into raw.order_events_duplicates
         (event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp)
       values ${values.join(", ")}
       on conflict (event_id, topic, kafka_partition, kafka_offset) do nothing`,
      params,
    );
  }
}

/** Records `rows` as dead letters (one per topic, partition and offset). */
export async function insertDeadLetters(
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
