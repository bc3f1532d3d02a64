/**
 * The simulator's message stream: valid lifecycle events plus, by the chaos knobs, duplicates
 * (an earlier message re-sent byte for byte), late events (held back and sent after later
 * ones, often after the next event of their own order) and malformed messages of every kind
 * the consumer must dead-letter: not JSON, not UTF-8, a NUL byte, wrong types, missing fields,
 * an escaped NUL, an unknown schema version, a key that is not the order id, and a value over
 * the consumer's size cap (but under the broker's limit).
 */
import { type ErrorClass, MAX_EVENT_BYTES, type OrderEvent } from "../shared/mod.ts";
import type { OrderSimulator } from "./lifecycle.ts";
import type { Random } from "./random.ts";

/** Each malformed kind and the error class the consumer must give it. */
export const MALFORMED_KINDS = {
  not_json: "parse",
  not_utf8: "parse",
  nul_byte: "parse",
  wrong_types: "schema",
  missing_fields: "schema",
  nul_escape: "schema",
  unknown_version: "schema",
  wrong_key: "schema",
  oversize: "oversize",
} as const satisfies Record<string, ErrorClass>;

export type MalformedKind = keyof typeof MALFORMED_KINDS;

/** Percentages (0–100) of messages the chaos knobs alter. */
export interface ChaosSettings {
  duplicatePct: number;
  latePct: number;
  malformedPct: number;
}

/** One message to send, and what the manifest must count it as. */
export type Outgoing =
  | { kind: "valid"; key: string; value: string; eventId: string; late: boolean }
  | { kind: "duplicate"; key: string; value: string; eventId: string }
  | { kind: "malformed"; key: string; value: string | Uint8Array; malformed: MalformedKind };

const RING_SIZE = 1_000;

/** Draws the next messages: lifecycles with chaos applied. */
export class MessageStream {
  #simulator: OrderSimulator;
  #random: Random;
  #chaos: ChaosSettings;
  #emitted = 0;
  #held: Array<{ releaseAt: number; message: Outgoing }> = [];
  #recent: Array<Extract<Outgoing, { kind: "valid" }>> = [];

  constructor(simulator: OrderSimulator, random: Random, chaos: ChaosSettings) {
    this.#simulator = simulator;
    this.#random = random;
    this.#chaos = chaos;
  }

  /** Late messages drawn but not yet released. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * The next message: a late one whose time has come, or a new draw; null when the draw was
   * held back as late (it comes out of a later call, or of `drain`).
   */
  next(): Outgoing | null {
    const due = this.#held.findIndex((entry) => entry.releaseAt <= this.#emitted);
    if (due !== -1) return this.#emit(this.#held.splice(due, 1)[0]!.message);
    const random = this.#random;
    if (random.chance(this.#chaos.malformedPct / 100)) {
      const kind = random.pick(Object.keys(MALFORMED_KINDS) as MalformedKind[]);
      return this.#emit(malformed(kind, this.#simulator.orphan(), random));
    }
    if (this.#recent.length > 0 && random.chance(this.#chaos.duplicatePct / 100)) {
      const original = random.pick(this.#recent);
      return this.#emit({
        kind: "duplicate",
        key: original.key,
        value: original.value,
        eventId: original.eventId,
      });
    }
    const event = this.#simulator.next();
    const message: Outgoing = {
      kind: "valid",
      key: event.order_id,
      value: JSON.stringify(event),
      eventId: event.event_id,
      late: false,
    };
    if (random.chance(this.#chaos.latePct / 100)) {
      this.#held.push({
        releaseAt: this.#emitted + random.int(3, 40),
        message: { ...message, late: true },
      });
      return null;
    }
    return this.#emit(message);
  }

  /** Releases every held late message (at the end of a run). */
  drain(): Outgoing[] {
    const rest = this.#held.map((entry) => entry.message);
    this.#held = [];
    return rest.map((message) => this.#emit(message));
  }

  #emit(message: Outgoing): Outgoing {
    this.#emitted++;
    if (message.kind === "valid") {
      if (this.#recent.length < RING_SIZE) this.#recent.push(message);
      else this.#recent[this.#emitted % RING_SIZE] = message;
    }
    return message;
  }
}

/** A message of `kind` built from a valid `event` (whose order is in no lifecycle). */
export function malformed(
  kind: MalformedKind,
  event: OrderEvent,
  random: Random,
): Extract<Outgoing, { kind: "malformed" }> {
  const key = event.order_id;
  const json = (value: unknown) => JSON.stringify(value);
  const base = { kind: "malformed" as const, key, malformed: kind };
  switch (kind) {
    case "not_json":
      return {
        ...base,
        value: random.pick([
          json(event).slice(0, 40),
          "order created",
          `{'event_id': '${event.event_id}'}`,
          "",
        ]),
      };
    case "not_utf8": {
      const bytes = new TextEncoder().encode(json(event));
      bytes[10] = 0xff;
      bytes[11] = 0xfe;
      return { ...base, value: bytes };
    }
    case "nul_byte":
      // A raw NUL inside a JSON string: JSON forbids unescaped control characters.
      return { ...base, value: json(event).replace('"reason":"', '"reason":"\u0000') };
    case "wrong_types": {
      const broken: Record<string, unknown> = { ...event };
      const field = random.pick(["user_id", "occurred_at", "event_id", "schema_version"]);
      broken[field] = field === "occurred_at"
        ? Date.parse(event.occurred_at)
        : field === "user_id"
        ? String(event.user_id)
        : field === "event_id"
        ? 12345
        : "1";
      return { ...base, value: json(broken) };
    }
    case "missing_fields": {
      const broken: Record<string, unknown> = { ...event };
      delete broken[random.pick(["event_id", "order_id", "occurred_at", "reason", "user_id"])];
      return { ...base, value: json(broken) };
    }
    case "nul_escape":
      return { ...base, value: json({ ...event, reason: "customer\u0000request" }) };
    case "unknown_version":
      return { ...base, value: json({ ...event, schema_version: 2 }) };
    case "wrong_key":
      return { ...base, key: random.uuid(), value: json(event) };
    case "oversize": {
      // Over the consumer's cap, well under the broker's ~1 MiB limit.
      const size = random.int(MAX_EVENT_BYTES + 1, 3 * MAX_EVENT_BYTES);
      return { ...base, value: json({ ...event, padding: "x".repeat(size) }) };
    }
  }
}
