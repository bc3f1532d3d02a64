/**
 * What each message of a batch becomes before anything is written: a valid row (the first of
 * its event_id in the batch), a repeat of an event earlier in the same batch (a duplicate), or
 * a dead letter (it failed validation). Pure: the landing step writes the plan.
 */
import type { ErrorClass, Validation } from "../shared/mod.ts";

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
  value: Uint8Array | null;
  text: string;
  timestampMs: number;
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
