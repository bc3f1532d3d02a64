/**
 * SIGKILL the consumer at 5 seeded random points of a pre-filled topic and restart it each
 * time: every valid distinct event lands exactly once. Small fetches make many short
 * transactions, so the kills fall before, inside and after PostgreSQL commits and between the
 * PostgreSQL and the Kafka commit. The points are printed; CRASH_SEED reproduces a run.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Random } from "../../workers/producer/random.ts";
import {
  accountedFor,
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  deleteTopics,
  env,
  fillTopic,
  streamNames,
  waitCaughtUp,
  waitFor,
} from "./helpers.ts";

Deno.test({
  name: "SIGKILL at 5 seeded points and restart: every valid distinct event lands once",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("crash");
    const seed = env.CRASH_SEED ?? String(Date.now());
    try {
      const manifest = await fillTopic(topic, {
        count: 12_000,
        seed: `crash-${seed}`,
        duplicatePct: 3,
        latePct: 3,
        malformedPct: 2,
      });
      const total = manifest.acknowledged.total;
      const random = new Random(`crash-points-${seed}`);
      // Kill when this many messages have been accounted for (landed, dead-lettered, dropped).
      const points = Array.from({ length: 5 }, () => random.int(total * 0.05, total * 0.9))
        .sort((a, b) => a - b);
      console.log(`CRASH_SEED=${seed}: SIGKILL after ${points.join(", ")} of ${total} messages`);
      const overrides = { CONSUMER_MAX_BYTES_PER_PARTITION: "16384", LOG_LEVEL: "warn" };
      const accounted = () => accountedFor(topic);
      for (const point of points) {
        const consumer = new ConsumerProcess(topic, group, overrides);
        await waitFor(async () => (await accounted()) >= point, {
          timeoutMs: 60_000,
          message: `consumer did not reach ${point}:\n${consumer.logTail()}`,
          intervalMs: 20,
        });
        consumer.kill("SIGKILL");
        const status = await consumer.exited;
        assertEquals(status.signal, "SIGKILL");
        console.log(`  killed at ${await accounted()} (target ${point})`);
      }
      const last = new ConsumerProcess(topic, group, overrides);
      await waitCaughtUp(group, topic, 120_000, [last], total);
      assertEquals(await last.stop(), 0);
      await assertMatchesManifest(topic, manifest);
    } finally {
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
