/**
 * Sends the message stream to Kafka at a rate through the simulator's producer session
 * (session.ts), and keeps the manifest (manifest.ts). Each message's partition is set here
 * (partitions.ts) and every answer is checked against it: a message counts as acknowledged only
 * when the broker's answer names its partition without error. A failed send is resent, or the
 * producer recreated first, as send_policy.ts decides; a batch that runs out of time is counted
 * as unacknowledged and stops the run. Nothing is dropped silently.
 */
import { Buffer } from "node:buffer";
import { CompressionTypes } from "kafkajs";
import { errorChain, type Logger, RetriableError } from "../shared/mod.ts";
import type { MessageStream, Outgoing } from "./chaos.ts";
import { countAcknowledged, countUnacknowledged, type Manifest } from "./manifest.ts";
import { unacknowledgedPartitions } from "./partitions.ts";
import { decideAfterSendFailure } from "./send_policy.ts";
import type { ProducerSession } from "./session.ts";

export { type Manifest, newManifest } from "./manifest.ts";

/** Options of `publish`. */
export interface PublishOptions {
  topic: string;
  /** Messages per second; Infinity sends as fast as the broker acknowledges. */
  rate: number;
  /** The partition of a message key (partitions.ts keyPartitioner). */
  partitionOf: (key: string) => number;
  /** Stop after this many messages (all kinds); undefined = no limit. */
  count?: number | undefined;
  /** Stop after this many seconds; undefined = no limit. */
  durationS?: number | undefined;
  /** Largest number of messages per produce request. */
  maxBatch?: number;
  /** Keep valid_event_ids (off for very large runs). */
  keepIds?: boolean;
  /** How long one batch may be retried before it is given up (default 5 minutes). */
  retryBudgetMs?: number;
  /** Checked before every send: false stops the run (signals). */
  shouldContinue?: () => boolean;
  /** A `performance.now()` time after which no batch is retried (shutdown); Infinity = none. */
  giveUpBy?: () => number;
  /** Called after every acknowledged send (heartbeat file). */
  onAck?: (manifest: Manifest) => void;
  logger: Logger;
}

/** Sends from `stream` until count, duration or `shouldContinue` says stop; fills `manifest`. */
export async function publish(
  session: ProducerSession,
  stream: MessageStream,
  manifest: Manifest,
  options: PublishOptions,
): Promise<Manifest> {
  const maxBatch = options.maxBatch ?? 1_000;
  const started = performance.now();
  const endAt = options.durationS === undefined ? Infinity : started + options.durationS * 1000;
  const limit = options.count ?? Infinity;
  const shouldContinue = options.shouldContinue ?? (() => true);
  const sender = new BatchSender(session, manifest, options, started);
  // Messages made so far: handed to send, or drawn as late and still held back.
  let handed = 0;
  const made = () => handed + stream.held;

  try {
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
      if (batch.length > 0) await sender.send(batch);
    }
    // Late messages still held back belong to this run: send them before stopping.
    const rest = stream.drain();
    handed += rest.length;
    for (let start = 0; start < rest.length; start += maxBatch) {
      await sender.send(rest.slice(start, start + maxBatch));
    }
  } catch (error) {
    // Held-back late messages of a run that gave up were made and never sent: report them too.
    countUnacknowledged(manifest, stream.drain(), options.keepIds ?? true);
    throw error;
  }
  return manifest;
}

/** Sends one batch until all of it is acknowledged, or gives up on what is left. */
class BatchSender {
  #session: ProducerSession;
  #manifest: Manifest;
  #options: PublishOptions;
  #lastAck: number;
  #recreate = false;

  constructor(
    session: ProducerSession,
    manifest: Manifest,
    options: PublishOptions,
    started: number,
  ) {
    this.#session = session;
    this.#manifest = manifest;
    this.#options = options;
    this.#lastAck = started;
  }

  async send(messages: Outgoing[]): Promise<void> {
    const { topic, partitionOf, logger } = this.#options;
    const keepIds = this.#options.keepIds ?? true;
    const budgetMs = this.#options.retryBudgetMs ?? 300_000;
    const started = performance.now();
    let pending = messages;
    for (let attempt = 1;; attempt++) {
      let failure: unknown;
      let partial = false;
      try {
        if (this.#recreate) {
          await this.#session.recreate();
          this.#recreate = false;
          this.#manifest.producers_recreated++;
          logger.info("Producer recreated", {
            producers_recreated: this.#manifest.producers_recreated,
          });
        }
        const partitions = pending.map((message) => partitionOf(message.key));
        const answer = await this.#session.send({
          topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: pending.map((message, index) => ({
            key: message.key,
            value: typeof message.value === "string" ? message.value : Buffer.from(message.value),
            partition: partitions[index]!,
          })),
        });
        const missing = unacknowledgedPartitions(topic, new Set(partitions), answer);
        this.#acknowledged(pending.filter((_, index) => !missing.has(partitions[index]!)));
        if (missing.size === 0) return;
        pending = pending.filter((_, index) => missing.has(partitions[index]!));
        partial = true;
        failure = new RetriableError(
          `The answer to a send to topic ${topic} left partitions ${
            [...missing].sort((a, b) => a - b).join(", ")
          } unacknowledged`,
        );
      } catch (error) {
        failure = error;
      }
      const now = performance.now();
      const remainingMs = Math.min(
        budgetMs - (now - started),
        (this.#options.giveUpBy?.() ?? Infinity) - now,
      );
      const decision = decideAfterSendFailure(failure, { attempt, remainingMs });
      if (decision.action === "give_up") {
        countUnacknowledged(this.#manifest, pending, keepIds);
        throw new Error(
          `Sending ${pending.length} messages to topic ${topic} failed: ${decision.reason}`,
          { cause: failure },
        );
      }
      // A failed send may or may not have landed: sending it again can duplicate it (the
      // consumer drops duplicates by event id), so the manifest counts every resend.
      this.#manifest.resent_batches++;
      if (decision.action === "recreate") this.#recreate = true;
      logger.warn(
        decision.action === "recreate"
          ? "Producer state broken, recreating the producer and resending"
          : partial
          ? "Answer left partitions unacknowledged, resending their messages"
          : "Send failed, resending",
        {
          attempt,
          delay_ms: decision.delayMs,
          messages: pending.length,
          error: errorChain(failure),
        },
      );
      await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
    }
  }

  #acknowledged(messages: readonly Outgoing[]): void {
    if (messages.length === 0) return;
    const now = performance.now();
    this.#manifest.longest_ack_gap_ms = Math.max(
      this.#manifest.longest_ack_gap_ms,
      Math.round(now - this.#lastAck),
    );
    this.#lastAck = now;
    countAcknowledged(this.#manifest, messages, this.#options.keepIds ?? true);
    this.#manifest.finished_at = new Date().toISOString();
    this.#options.onAck?.(this.#manifest);
  }
}
