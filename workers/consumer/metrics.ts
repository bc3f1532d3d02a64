/**
 * Produce-to-committed-row latency, for the benchmark: for every message of a committed batch,
 * the PostgreSQL commit time minus the Kafka message timestamp (set by the producer at send).
 * A 1 ms histogram up to one minute keeps memory flat however many messages pass.
 */
import type { InboundMessage } from "./plan.ts";

const BUCKETS = 60_000;

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Collects latencies of committed messages. */
export class LatencyRecorder {
  #histogram = new Float64Array(BUCKETS + 1);
  #count = 0;
  #max = 0;

  /** Records every message of a batch committed at `committedAt` (epoch ms). */
  record(committedAt: number, messages: readonly InboundMessage[]): void {
    for (const message of messages) {
      const latency = Math.max(0, committedAt - message.timestampMs);
      this.#histogram[Math.min(BUCKETS, Math.floor(latency))]! += 1;
      this.#count++;
      if (latency > this.#max) this.#max = latency;
    }
  }

  /** Percentiles so far (upper edge of the 1 ms bucket). */
  summary(): LatencySummary {
    const percentile = (fraction: number): number => {
      const rank = Math.ceil(fraction * this.#count);
      let seen = 0;
      for (let bucket = 0; bucket <= BUCKETS; bucket++) {
        seen += this.#histogram[bucket]!;
        if (seen >= rank) return bucket + 1;
      }
      return BUCKETS;
    };
    if (this.#count === 0) return { count: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0, max_ms: 0 };
    return {
      count: this.#count,
      p50_ms: percentile(0.5),
      p95_ms: percentile(0.95),
      p99_ms: percentile(0.99),
      max_ms: Math.round(this.#max),
    };
  }

  /** Forgets everything recorded so far (e.g. after a warm-up). */
  reset(): void {
    this.#histogram.fill(0);
    this.#count = 0;
    this.#max = 0;
  }
}
