import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { ConfigError } from "../shared/mod.ts";
import { heartbeatFile, maxAgeSeconds, staleness } from "./health.ts";

Deno.test("maxAgeSeconds: 30 by default, the number given, and a clear error naming a bad value", () => {
  assertEquals(maxAgeSeconds(undefined), 30);
  assertEquals(maxAgeSeconds("12.5"), 12.5);
  for (const bad of ["abc", "", " ", "0", "-3", "Infinity"]) {
    throws(
      () => maxAgeSeconds(bad),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          `PRODUCER_HEALTH_MAX_AGE_S must be a number of seconds above 0, got ${
            JSON.stringify(bad)
          }`,
      `value ${JSON.stringify(bad)}`,
    );
  }
});

Deno.test("heartbeatFile: PRODUCER_HEARTBEAT_FILE wins, else under STATE_DIR, else an error", () => {
  assertEquals(heartbeatFile({ PRODUCER_HEARTBEAT_FILE: "/tmp/hb", STATE_DIR: "/s" }), "/tmp/hb");
  assertEquals(heartbeatFile({ STATE_DIR: "/s" }), "/s/run/producer.heartbeat");
  throws(() => heartbeatFile({}), /Set PRODUCER_HEARTBEAT_FILE or STATE_DIR/);
});

Deno.test("staleness: fresh within the limit, else a message naming the file and its age", () => {
  const now = Date.UTC(2026, 10, 25, 10, 0, 0);
  assertEquals(staleness("/tmp/hb", new Date(now - 30_000), now, 30), null);
  assertEquals(
    staleness("/tmp/hb", new Date(now - 42_000), now, 30),
    "Heartbeat file /tmp/hb is 42.0 s old, over the limit of 30 s",
  );
  assertEquals(
    staleness("/tmp/hb", null, now, 30),
    "Heartbeat file /tmp/hb has no modification time",
  );
});
