/**
 * Sends the message stream to Kafka at a rate, with an idempotent producer (acks -1, key =
 * order id, one request in flight, so a partition keeps send order), and keeps the manifest:
 * what the broker acknowledged, counted per kind, plus the ids of the valid distinct events in
 * acknowledgement order. Tests reconcile the tables against it, never against consumer counters.
 */
import { Buffer } from "node:buffer";
import { CompressionTypes, type Producer } from "kafkajs";
import { backoffDelay, errorChain, isRetriable, type Logger } from "../shared/mod.ts";
import { MALFORMED_KINDS, type MalformedKind, type MessageStream, type Outgoing } from "./chaos.ts";

/** What the broker acknowledged. */
export interface Manifest {
  manifest_version: 1;
  topic: string;
  seed: string;
  catalog: { source: string; users: number; products: number };
  chaos: { duplicate_pct: number; late_pct: number; malformed_pct: number };
  started_at: string;
  finished_at: string;
  acknowledged: {
    total: number;
    valid: number;
    late: number;
    duplicate: number;
    malformed: Record<MalformedKind, number>;
    by_error_class: { parse: number; schema: number; oversize: number };
  };
  /** Sends repeated after an error: their messages may be in the topic twice. */
  resent_batches: number;
  orders: { started: number; paid: number; cancelled: number };
  /** Valid distinct events, in the order the broker acknowledged them (empty if not kept). */
  valid_event_ids: string[];
}

/** Options of `publish`. */
export interface PublishOptions {
  topic: string;
  /** Messages per second; Infinity sends as fast as the broker acknowledges. */
  rate: number;
  /** Stop after this many messages (all kinds); undefined = no limit. */
  count?: number | undefined;
  /** Stop after this many seconds; undefined = no limit. */
  durationS?: number | undefined;
  /** Largest number of messages per produce request. */
  maxBatch?: number;
  /** Keep valid_event_ids (off for very large runs). */
  keepIds?: boolean;
  /** Checked before every send: false stops the run (signals). */
  shouldContinue?: () => boolean;
  /** Called after every acknowledged send (heartbeat file). */
  onAck?: (manifest: Manifest) => void;
  logger: Logger;
}

/** An empty manifest for a run. */
export function newManifest(
  init: Pick<Manifest, "topic" | "seed" | "catalog" | "chaos">,
): Manifest {
  const malformed = Object.fromEntries(
    Object.keys(MALFORMED_KINDS).map((kind) => [kind, 0]),
  ) as Record<MalformedKind, number>;
  const now = new Date().toISOString();
  return {
    manifest_version: 1,
    ...init,
    started_at: now,
    finished_at: now,
    acknowledged: {
      total: 0,
      valid: 0,
      late: 0,
      duplicate: 0,
      malformed,
      by_error_class: { parse: 0, schema: 0, oversize: 0 },
    },
    resent_batches: 0,
    orders: { started: 0, paid: 0, cancelled: 0 },
    valid_event_ids: [],
  };
}

/** Sends from `stream` until count, duration or `shouldContinue` says stop; fills `manifest`. */
export async function publish(
  producer: Producer,
  stream: MessageStream,
  manifest: Manifest,
  options: PublishOptions,
): Promise<Manifest> {
  const maxBatch = options.maxBatch ?? 1_000;
  const keepIds = options.keepIds ?? true;
  const started = performance.now();
  const endAt = options.durationS === undefined ? Infinity : started + options.durationS * 1000;
  const limit = options.count ?? Infinity;
  const shouldContinue = options.shouldContinue ?? (() => true);
  // Messages made so far: handed to send, or drawn as late and still held back.
  let handed = 0;
  const made = () => handed + stream.held;

  const send = async (messages: Outgoing[]) => {
    for (let attempt = 1;; attempt++) {
      try {
        await producer.send({
          topic: options.topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: messages.map((message) => ({
            key: message.key,
            value: typeof message.value === "string" ? message.value : Buffer.from(message.value),
          })),
        });
        break;
      } catch (error) {
        // A send no retry can fix (a message over the broker's limit, a missing topic or
        // permission, a broken idempotence sequence) stops the run: resending would loop forever.
        if (!isRetriable(error)) {
          throw new Error(
            `Sending ${messages.length} messages to topic ${options.topic} failed ` +
              "with an error no retry can fix",
            { cause: error },
          );
        }
        // The idempotent producer already retried; a send that still failed may or may not
        // have landed, so sending it again can duplicate it (the consumer drops duplicates).
        manifest.resent_batches++;
        const delay = backoffDelay(attempt + 1, { initialMs: 250, maxMs: 5_000 });
        options.logger.warn("Send failed, resending", {
          attempt,
          delay_ms: delay,
          messages: messages.length,
          error: errorChain(error),
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    acknowledge(manifest, messages, keepIds);
    manifest.finished_at = new Date().toISOString();
    options.onAck?.(manifest);
  };

  while (shouldContinue() && made() < limit && performance.now() < endAt) {
    const elapsedS = (performance.now() - started) / 1000;
    const due = options.rate === Infinity
      ? maxBatch
      : Math.min(maxBatch, Math.floor(elapsedS * options.rate) - made() + 1);
    if (due <= 0) {
      const wait = ((made() / options.rate) - elapsedS) * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(wait, 100))));
      continue;
    }
    const batch: Outgoing[] = [];
    const target = made() + due;
    // next() either makes a message (sent now or held back) or releases a held one.
    while (batch.length < maxBatch && made() < Math.min(target, limit)) {
      const message = stream.next();
      if (message !== null) {
        batch.push(message);
        handed++;
      }
    }
    if (batch.length > 0) await send(batch);
  }
  // Late messages still held back belong to this run: send them before stopping.
  const rest = stream.drain();
  handed += rest.length;
  for (let start = 0; start < rest.length; start += maxBatch) {
    await send(rest.slice(start, start + maxBatch));
  }
  return manifest;
}

function acknowledge(manifest: Manifest, messages: readonly Outgoing[], keepIds: boolean): void {
  const counts = manifest.acknowledged;
  for (const message of messages) {
    counts.total++;
    if (message.kind === "valid") {
      counts.valid++;
      if (message.late) counts.late++;
      if (keepIds) manifest.valid_event_ids.push(message.eventId);
    } else if (message.kind === "duplicate") {
      counts.duplicate++;
    } else {
      counts.malformed[message.malformed]++;
      counts.by_error_class[MALFORMED_KINDS[message.malformed]]++;
    }
  }
}
