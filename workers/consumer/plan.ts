/**
 * What each message of a batch becomes before anything is written: a valid row (the first of
 * its event_id in the batch), a repeat of an event earlier in the same batch (a duplicate), or
 * a dead letter (it failed validation). Pure: the landing step writes the plan.
 */
import { type ErrorClass, needsCopyEscape, type Validation } from "../shared/mod.ts";

/**
 * What the consumer keeps of a validation. A valid event is kept by its id only: its text is
 * the message's own bytes (decoded again on the rare paths that need a string), so a batch in
 * flight holds no parsed event and no second copy of each payload (docs/decisions/0066).
 */
export type Verdict =
  | { ok: true; eventId: string; escape: boolean }
  | { ok: false; errorClass: ErrorClass; message: string; text: string | null };

/** One Kafka message after validation, as the landing step needs it. */
export interface InboundMessage {
  offset: number;
  key: string | null;
  timestampMs: number;
  value: Uint8Array | null;
  validation: Verdict;
}

/** The verdict of `validation`: a valid event's lower-case id and whether COPY must escape it. */
export function verdictOf(validation: Validation): Verdict {
  if (!validation.ok) return validation;
  return {
    ok: true,
    eventId: validation.event.event_id.toLowerCase(),
    escape: needsCopyEscape(validation.text),
  };
}

/** The partition a batch belongs to, and the group whose offsets it advances. */
export interface BatchTarget {
  group: string;
  topic: string;
  partition: number;
}

/** A message that goes to raw.order_events_dead_letters. */
export interface DeadLetter {
  offset: number;
  key: string | null;
  value: Uint8Array | null;
  text: string | null;
  errorClass: ErrorClass;
  message: string;
  timestampMs: number;
}

/** A valid event: to raw.order_events, or to raw.order_events_duplicates when repeated. */
export interface ValidRow {
  eventId: string;
  offset: number;
  key: string;
  /** The message value: valid UTF-8, the event's JSON text. */
  value: Uint8Array;
  /** The text holds a character COPY's text format must escape. */
  escape: boolean;
  timestampMs: number;
}

// As in validateMessage: a valid value has no BOM (JSON.parse refuses one), so this is exact.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** The event's JSON text (for the paths that send it as a parameter or escape it). */
export function rowText(row: ValidRow): string {
  return utf8.decode(row.value);
}

/** A batch split by what each message becomes. */
export interface Plan {
  valid: ValidRow[];
  inBatchDuplicates: ValidRow[];
  deadLetters: DeadLetter[];
}

/** Splits messages into valid rows (first of each event_id), repeats within the batch, and dead letters. */
export function classify(messages: readonly InboundMessage[]): Plan {
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
    // Valid means the value parsed and the key equals the event's order_id: neither is null.
    const row: ValidRow = {
      eventId: validation.eventId,
      offset: message.offset,
      key: message.key!,
      value: message.value!,
      escape: validation.escape,
      timestampMs: message.timestampMs,
    };
    // One hash lookup per event: the set grows unless the id was there.
    const size = seen.size;
    seen.add(row.eventId);
    if (seen.size === size) plan.inBatchDuplicates.push(row);
    else plan.valid.push(row);
  }
  return plan;
}

/**
 * Folds the rows PostgreSQL refused (by event_id) into the plan as `schema` dead letters: a
 * repeat of a refused event is refused too (same bytes), so it becomes a dead letter at its own
 * offset instead of a duplicate.
 */
export function withRefused(plan: Plan, refused: ReadonlyMap<string, DeadLetter>): Plan {
  const deadLetters = [...plan.deadLetters, ...refused.values()];
  const inBatchDuplicates: ValidRow[] = [];
  for (const row of plan.inBatchDuplicates) {
    const original = refused.get(row.eventId);
    if (original) {
      deadLetters.push({ ...original, offset: row.offset, timestampMs: row.timestampMs });
    } else {
      inBatchDuplicates.push(row);
    }
  }
  return { valid: plan.valid, inBatchDuplicates, deadLetters };
}
