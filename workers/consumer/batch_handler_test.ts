import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { KafkaMessage } from "kafkajs";
import { createLogger } from "../shared/mod.ts";
import { toInbound, waitOwning } from "./batch_handler.ts";

Deno.test("toInbound: a wild Kafka timestamp or a missing value never stops a batch", () => {
  const base = { key: null, value: null, offset: "7", headers: {}, attributes: 0, size: 0 };
  for (const timestamp of ["99999999999999999", "-5", "not a number"]) {
    assertEquals(toInbound({ ...base, timestamp } as KafkaMessage).timestampMs, -1);
  }
  const tombstone = toInbound({ ...base, timestamp: "1764064800123" } as KafkaMessage);
  assertEquals([tombstone.offset, tombstone.timestampMs], [7, 1764064800123]);
  assert(!tombstone.validation.ok && tombstone.validation.errorClass === "parse");
});

/** A batch payload whose heartbeat fails with `error`, and the log lines written meanwhile. */
function failingHeartbeat(error: Error) {
  const lines: Array<{ level: string; msg: string; error?: Array<{ message: string }> }> = [];
  const log = createLogger("unit", { sink: (line) => lines.push(JSON.parse(line)) });
  const payload = {
    isRunning: () => true,
    isStale: () => false,
    heartbeat: () => Promise.reject(error),
  };
  return { payload, log, lines };
}

Deno.test("waitOwning: a heartbeat error other than a rebalance is logged and the wait goes on", async () => {
  const { payload, log, lines } = failingHeartbeat(new Error("Connection error: ECONNREFUSED"));
  assertEquals(await waitOwning(payload, 5, log), true, "still owning the partition");
  assert(lines.length >= 1, "the failure is logged");
  assertEquals(lines[0]!.level, "warn");
  assertEquals(lines[0]!.msg, "Heartbeat failed while waiting to retry the batch");
  assertEquals(lines[0]!.error?.[0]?.message, "Connection error: ECONNREFUSED");
});

Deno.test("waitOwning: a rebalance ends the wait without a warning; so does a stop", async () => {
  const rebalance = Object.assign(new Error("The group is rebalancing"), {
    type: "REBALANCE_IN_PROGRESS",
  });
  const { payload, log, lines } = failingHeartbeat(rebalance);
  assertEquals(await waitOwning(payload, 5, log), false);
  assertEquals(lines, []);
  const stopped = { ...payload, isRunning: () => false };
  assertEquals(await waitOwning(stopped, 5, log), false);
});
