/**
 * What the simulator does after a send failed, once kafkajs' own retries are spent: resend with
 * the same producer, recreate the producer and resend, or give up and report the batch as
 * unacknowledged. Pure: the publisher feeds it the error and the time left, and acts.
 *
 * kafkajs 2.2.4 treats the idempotent producer's state errors as fatal and never resets its
 * producer id or sequences after one (tulios/kafkajs#598: OUT_OF_ORDER_SEQUENCE_NUMBER around
 * leader changes), so every later send to that partition fails the same way: only a new
 * producer (a new producer id, sequences from 0) gets the stream moving again.
 */
import { backoffDelay, isRetriable } from "../shared/mod.ts";

/** Broker error types that mean "this producer id's sequence state is broken": recreate it. */
export const PRODUCER_STATE_ERRORS: ReadonlySet<string> = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "DUPLICATE_SEQUENCE_NUMBER",
  "INVALID_PRODUCER_EPOCH",
  "INVALID_PRODUCER_ID_MAPPING",
  "UNKNOWN_PRODUCER_ID",
]);

/** The next step after a failed send. */
export type SendDecision =
  | { action: "retry"; delayMs: number }
  | { action: "recreate"; delayMs: number; errorType: string }
  | { action: "give_up"; reason: string };

/** Where the failed send stands. */
export interface SendState {
  /** Failed tries of this batch so far (1 after the first failure). */
  attempt: number;
  /** Milliseconds left before the batch must be given up (retry budget or shutdown). */
  remainingMs: number;
}

/** Waits between tries of one batch (the first retry waits 250 ms). */
const BACKOFF = { initialMs: 250, maxMs: 5_000 } as const;

/** The producer-state error type in `error`'s cause chain, or null when there is none. */
export function producerStateError(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === "string" && PRODUCER_STATE_ERRORS.has(type)) return type;
    current = current instanceof Error ? current.cause : undefined;
  }
  return null;
}

/** Decides between resending, recreating the producer and giving up. */
export function decideAfterSendFailure(error: unknown, state: SendState): SendDecision {
  const delayMs = backoffDelay(state.attempt, BACKOFF);
  const errorType = producerStateError(error);
  const fixable = errorType !== null || isRetriable(error);
  if (!fixable) return { action: "give_up", reason: "an error no retry can fix" };
  if (delayMs >= state.remainingMs) {
    return {
      action: "give_up",
      reason: `no time left to retry (${Math.max(0, Math.round(state.remainingMs))} ms left ` +
        `after ${state.attempt} failed tries)`,
    };
  }
  return errorType !== null
    ? { action: "recreate", delayMs, errorType }
    : { action: "retry", delayMs };
}
