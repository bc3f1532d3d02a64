/**
 * The kafkajs `eachBatch` callback: validate every message, land the batch (landing.ts), and
 * only after the PostgreSQL commit resolve the offset and commit it to Kafka. Transient failures
 * are retried with back-off while the consumer still owns the partition; a batch abandoned on
 * shutdown or rebalance was never committed, so its messages come again.
 */
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import {
  backoffDelay,
  errorChain,
  isRetriable,
  keyText,
  type Logger,
  type Pool,
  validateMessage,
} from "../shared/mod.ts";
import { type InboundMessage, landBatch } from "./landing.ts";
import { verdictOf } from "./plan.ts";
import { FatalRepeats } from "./fatal_repeats.ts";
import type { LatencyRecorder } from "./metrics.ts";
import { beyondLogEnd } from "./offsets.ts";

/** Kafka offsets are committed at most this often per partition (PostgreSQL's every batch). */
const KAFKA_COMMIT_INTERVAL_MS = 1_000;

/** What the handler needs from its surroundings. */
export interface BatchHandlerDeps {
  pool: Pool;
  group: string;
  logger: Logger;
  /** consumer.seek: move the partition's fetch position (to the offset PostgreSQL holds). */
  seek: (target: { topic: string; partition: number; offset: string }) => void;
  /** Called once with an error no retry can fix; the consumer then stops with exit code 1. */
  onFatal: (error: unknown) => void;
  metrics?: LatencyRecorder | undefined;
  /** Tries of a fatal error at one offset before the alert and stop (default 3). */
  fatalRepeats?: number;
  /** Back-off between attempts (default 250 ms doubling up to 10 s). */
  backoff?: { initialMs: number; maxMs: number };
}

/** Counters since start, for logs and the shutdown summary. */
export interface HandlerStats {
  batches: number;
  landed: number;
  duplicates: number;
  deadLetters: number;
  skipped: number;
  retries: number;
}

/** Converts a kafkajs message and validates it against the event contract. */
export function toInbound(message: KafkaMessage): InboundMessage {
  const key = keyText(message.key);
  const timestampMs = Number(message.timestamp);
  return {
    offset: Number(message.offset),
    key,
    // Kafka reports -1 for a message without timestamp (kept: 1969-12-31T23:59:59.999Z);
    // anything a Date cannot hold becomes -1 too, so a wild timestamp never stops a batch.
    timestampMs: timestampMs >= -1 && timestampMs <= 8.64e15 ? timestampMs : -1,
    value: message.value,
    validation: verdictOf(validateMessage(message.value, key)),
  };
}

/** Builds the eachBatch callback and the stats it keeps. */
export function createBatchHandler(
  deps: BatchHandlerDeps,
): { eachBatch: (payload: EachBatchPayload) => Promise<void>; stats: HandlerStats } {
  const stats: HandlerStats = {
    batches: 0,
    landed: 0,
    duplicates: 0,
    deadLetters: 0,
    skipped: 0,
    retries: 0,
  };
  // Partition → the offset we last sought to because Kafka's batch started above PostgreSQL's.
  const soughtGap = new Map<string, number>();
  const kafkaCommittedAt = new Map<string, number>();
  const backoff = deps.backoff ?? { initialMs: 250, maxMs: 10_000 };
  const fatalRepeats = new FatalRepeats(deps.fatalRepeats ?? 3);
  let fatal = false;

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    if (fatal || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const log = deps.logger.child({ topic, partition });
    const messages = batch.messages.map(toInbound);
    const partitionKey = `${topic}/${partition}`;
    for (let attempt = 1;; attempt++) {
      try {
        const result = await landBatch(
          deps.pool,
          { group: deps.group, topic, partition },
          messages,
          {
            logger: log,
            acceptGapFrom: soughtGap.get(partitionKey),
          },
        );
        if (result.kind === "behind") {
          // The batch says where the log ends (no extra round trip): a stored offset beyond
          // it is never reached by seeking, and looping on it would hide a re-created topic.
          const beyond = beyondLogEnd(
            { group: deps.group, topic, partition },
            result.storedOffset,
            Number(batch.highWatermark),
          );
          if (beyond !== undefined) {
            fatal = true;
            deps.onFatal(beyond);
            return;
          }
        }
        if (result.kind !== "landed") {
          // PostgreSQL holds a different position than Kafka handed us: fetch from PostgreSQL's.
          if (result.kind === "gap") soughtGap.set(partitionKey, result.storedOffset);
          log.info("Seeking to the offset PostgreSQL holds", {
            reason: result.kind,
            offset: result.storedOffset,
            batch_first: messages[0]?.offset,
          });
          deps.seek({ topic, partition, offset: String(result.storedOffset) });
          return;
        }
        const committedAt = Date.now();
        soughtGap.delete(partitionKey);
        fatalRepeats.clear(topic, partition);
        stats.batches++;
        stats.landed += result.landed;
        stats.duplicates += result.duplicates;
        stats.deadLetters += result.deadLetters;
        stats.skipped += result.skipped;
        deps.metrics?.record(committedAt, messages);
        log.debug("Landed batch", {
          first_offset: messages[0]?.offset,
          next_offset: result.nextOffset,
          landed: result.landed,
          duplicates: result.duplicates,
          dead_letters: result.deadLetters,
          skipped: result.skipped,
        });
        if (result.deadLetters > 0) {
          log.warn("Dead-lettered messages", { count: result.deadLetters });
        }
        payload.resolveOffset(batch.lastOffset());
        break;
      } catch (error) {
        const retriable = isRetriable(error);
        if (!retriable) {
          // A fatal error is tried again a few times at its offset: the same error each time
          // makes an alert (it will crash-loop under a supervisor), then the consumer stops.
          const repeated = fatalRepeats.record({
            topic,
            partition,
            offset: messages[0]!.offset,
            message: error instanceof Error ? error.message : String(error),
          });
          if (repeated !== undefined) {
            log.alert("The same fatal error repeats at one offset", {
              offset: repeated.offset,
              count: repeated.count,
              error: errorChain(error),
            });
            fatal = true;
            deps.onFatal(error);
            return;
          }
        }
        stats.retries++;
        const delay = backoffDelay(attempt, backoff);
        log.warn(
          retriable ? "Landing failed, will retry" : "Landing failed fatally, trying again",
          {
            attempt,
            delay_ms: delay,
            error: errorChain(error),
          },
        );
        if (!(await waitOwning(payload, delay, log))) {
          log.info("Abandoning the batch: consumer stopping or partition moved", { attempt });
          return;
        }
      }
    }
    // PostgreSQL has committed. Kafka's committed offset is only a hint for the next owner
    // (which skips up to PostgreSQL's offset), so it is committed at most once a second per
    // partition: a round trip per batch would cost latency for nothing.
    const now = Date.now();
    if (now - (kafkaCommittedAt.get(partitionKey) ?? 0) >= KAFKA_COMMIT_INTERVAL_MS) {
      kafkaCommittedAt.set(partitionKey, now);
      try {
        await payload.commitOffsetsIfNecessary({
          topics: [{
            topic,
            partitions: [{ partition, offset: String(Number(batch.lastOffset()) + 1) }],
          }],
        });
      } catch (error) {
        log.info("Kafka offset commit failed; PostgreSQL holds the offset", {
          error: errorChain(error),
        });
      }
    }
    await payload.heartbeat();
  };

  return { eachBatch, stats };
}

/** Sleeps `ms` in slices, heartbeating; false when the batch should be abandoned. */
export async function waitOwning(
  payload: Pick<EachBatchPayload, "isRunning" | "isStale" | "heartbeat">,
  ms: number,
  log: Logger,
): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!payload.isRunning() || payload.isStale()) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, until - Date.now())));
    try {
      await payload.heartbeat();
    } catch (error) {
      // A rebalance took the partition (or may have): let the new owner take over.
      const type = (error as { type?: string }).type ?? "";
      if (/REBALANCE|ILLEGAL_GENERATION|UNKNOWN_MEMBER/.test(type)) return false;
      // Anything else (the broker briefly unreachable) does not end the ownership: keep waiting,
      // but say so, since a session timeout may follow.
      log.warn("Heartbeat failed while waiting to retry the batch", { error: errorChain(error) });
    }
  }
  return payload.isRunning() && !payload.isStale();
}
