import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { LatencyRecorder } from "./metrics.ts";
import type { InboundMessage } from "./plan.ts";

const sentAt = (timestampMs: number) => ({ timestampMs }) as InboundMessage;

Deno.test("LatencyRecorder: percentiles are upper edges of 1 ms buckets", () => {
  const recorder = new LatencyRecorder();
  assertEquals(recorder.summary(), { count: 0, p50_ms: 0, p95_ms: 0, p99_ms: 0, max_ms: 0 });
  // 100 messages committed at 1000 with latencies 0..99 ms.
  recorder.record(1_000, Array.from({ length: 100 }, (_, i) => sentAt(1_000 - i)));
  assertEquals(recorder.summary(), { count: 100, p50_ms: 50, p95_ms: 95, p99_ms: 99, max_ms: 99 });
});

Deno.test("LatencyRecorder: clock skew counts as 0, beyond a minute lands in the last bucket", () => {
  const recorder = new LatencyRecorder();
  recorder.record(1_000, [sentAt(1_500), sentAt(1_000 - 90_000)]);
  const summary = recorder.summary();
  assertEquals([summary.count, summary.p50_ms, summary.max_ms], [2, 1, 90_000]);
  assertEquals(summary.p99_ms, 60_001);
  recorder.reset();
  assertEquals(recorder.summary().count, 0);
});
