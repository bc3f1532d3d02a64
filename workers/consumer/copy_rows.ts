/**
 * Valid events as COPY text-format lines, streamed in one COPY (npm:pg-copy-streams): straight
 * into raw.order_events (the common case), or into the connection's temporary stage when some
 * event may have landed before (docs/decisions/0042). The lines of a batch are written into one
 * buffer: the payload is the message's own bytes (escaped only when it holds a backslash, tab
 * or line break), so a batch costs no per-row strings and no second UTF-8 encoding
 * (docs/decisions/0066). The event id and key are validated uuids and need no escaping; the
 * payload and topic go through the shared `copyEscape`.
 */
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { copyEscape, type PoolClient } from "../shared/mod.ts";
import { type BatchTarget, rowText, type ValidRow } from "./plan.ts";

const COPY_DIRECT = "copy raw.order_events " +
  "(event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp) " +
  "from stdin";

const COPY_STAGE = "copy pg_temp.order_events_stage " +
  "(event_id, payload, kafka_offset, message_key, kafka_timestamp_ms) from stdin";

/** Bytes of a line besides the payload and the envelope: uuid, offset, key, timestamp, tabs. */
const LINE_OVERHEAD = 36 + 1 + 20 + 1 + 36 + 1 + 24 + 2;
const TAB = 0x09;
const NEWLINE = 0x0a;

/** Appends COPY fields to one growing buffer. */
class LineWriter {
  #buffer: Buffer;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = Buffer.allocUnsafe(Math.max(capacity, 64));
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + bytes));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }

  /** Text known to be ASCII (uuids, digits, ISO timestamps): one byte per character. */
  ascii(text: string): void {
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let index = 0; index < text.length; index++) buffer[at++] = text.charCodeAt(index);
    this.#length = at;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  bytes(value: Uint8Array): void {
    this.#reserve(value.byteLength);
    this.#buffer.set(value, this.#length);
    this.#length += value.byteLength;
  }

  /** The payload field: the message's bytes (its UTF-8 text), escaped only when it must be. */
  payload(row: ValidRow): void {
    if (row.escape) this.bytes(Buffer.from(copyEscape(rowText(row))));
    else this.bytes(row.value);
  }

  done(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }
}

function writerFor(rows: readonly ValidRow[], extraPerRow: number): LineWriter {
  let capacity = 0;
  for (const row of rows) capacity += row.value.byteLength + extraPerRow;
  return new LineWriter(capacity);
}

/** One line: event id, payload, `between` (tabs and fields), offset, key, then `last`. */
function writeLine(out: LineWriter, row: ValidRow, between: Uint8Array, last: string): void {
  out.ascii(row.eventId);
  out.byte(TAB);
  out.payload(row);
  out.bytes(between);
  out.ascii(String(row.offset));
  out.byte(TAB);
  out.ascii(row.key);
  out.byte(TAB);
  out.ascii(last);
  out.byte(NEWLINE);
}

/** The lines of a COPY into raw.order_events (timestamps as ISO text). */
export function directCopyLines(target: BatchTarget, rows: readonly ValidRow[]): Buffer {
  const envelope = Buffer.from(
    `\t${copyEscape(target.topic)}\t${Math.trunc(target.partition)}\t`,
  );
  const out = writerFor(rows, LINE_OVERHEAD + envelope.length);
  // Messages of one produce request share their timestamp: format each distinct one once.
  let lastMs = NaN;
  let lastIso = "";
  for (const row of rows) {
    if (row.timestampMs !== lastMs) {
      lastMs = row.timestampMs;
      lastIso = new Date(lastMs).toISOString();
    }
    writeLine(out, row, envelope, lastIso);
  }
  return out.done();
}

/** The lines of a COPY into the temporary stage (timestamps as epoch milliseconds). */
export function stageCopyLines(rows: readonly ValidRow[]): Buffer {
  const out = writerFor(rows, LINE_OVERHEAD);
  const between = Buffer.from("\t");
  for (const row of rows) writeLine(out, row, between, String(Math.trunc(row.timestampMs)));
  return out.done();
}

/** COPYs `rows` straight into raw.order_events; a repeated event_id fails it (23505). */
export function copyDirect(
  client: PoolClient,
  target: BatchTarget,
  rows: readonly ValidRow[],
): Promise<void> {
  return copyLines(client, COPY_DIRECT, directCopyLines(target, rows));
}

/** COPYs `rows` into the connection's temporary stage. */
export function copyStage(client: PoolClient, rows: readonly ValidRow[]): Promise<void> {
  return copyLines(client, COPY_STAGE, stageCopyLines(rows));
}

async function copyLines(client: PoolClient, statement: string, lines: Buffer): Promise<void> {
  const stream = client.query(copyFrom(statement));
  await pipeline(Readable.from([lines]), stream);
}
