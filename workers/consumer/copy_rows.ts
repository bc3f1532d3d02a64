/**
 * Valid events as COPY text-format lines, streamed in one COPY (npm:pg-copy-streams): straight
 * into raw.order_events (the common case), or into the connection's temporary stage when some
 * event may have landed before (docs/decisions/0042). The event id and key are validated uuids
 * and need no escaping; the payload and topic go through the shared `copyEscape`.
 */
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { copyEscape, type PoolClient } from "../shared/mod.ts";
import type { BatchTarget, ValidRow } from "./plan.ts";

const COPY_DIRECT = "copy raw.order_events " +
  "(event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp) " +
  "from stdin";

const COPY_STAGE = "copy pg_temp.order_events_stage " +
  "(event_id, payload, kafka_offset, message_key, kafka_timestamp_ms) from stdin";

/** The lines of a COPY into raw.order_events (timestamps as ISO text). */
export function directCopyText(target: BatchTarget, rows: readonly ValidRow[]): string {
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
  return lines.join("");
}

/** The lines of a COPY into the temporary stage (timestamps as epoch milliseconds). */
export function stageCopyText(rows: readonly ValidRow[]): string {
  const lines: string[] = new Array(rows.length);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    lines[index] = `${row.eventId}\t${copyEscape(row.text)}\t${row.offset}\t${row.key}\t${
      Math.trunc(row.timestampMs)
    }\n`;
  }
  return lines.join("");
}

/** COPYs `rows` straight into raw.order_events; a repeated event_id fails it (23505). */
export function copyDirect(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
): Promise<void> {
  return copyText(client, COPY_DIRECT, directCopyText(target, rows));
}

/** COPYs `rows` into the connection's temporary stage. */
export function copyStage(client: PoolClient, rows: readonly ValidRow[]): Promise<void> {
  return copyText(client, COPY_STAGE, stageCopyText(rows));
}

async function copyText(client: PoolClient, statement: string, text: string): Promise<void> {
  const stream = client.query(copyFrom(statement));
  await pipeline(Readable.from([Buffer.from(text)]), stream);
}
