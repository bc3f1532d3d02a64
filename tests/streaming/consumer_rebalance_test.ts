/**
 * Two, then three consumers in one group on a pre-filled topic, joining and leaving while they
 * land: each rebalance moves partitions between members that may still have a batch in flight
 * (kafkajs has no awaited revoke hook). Nothing is lost or doubled.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  createTopic,
  deleteTopics,
  landedCounts,
  runProducer,
  uniqueName,
  waitCaughtUp,
  waitFor,
} from "./helpers.ts";

Deno.test({
  name: "two and three consumers in one group, rebalancing while running: nothing lost or doubled",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const topic = uniqueName("t_rebalance");
    const group = uniqueName("g_rebalance");
    const consumers: ConsumerProcess[] = [];
    try {
      await createTopic(topic);
      const manifest = await runProducer(topic, [
        "--rate",
        "max",
        "--count",
        "30000",
        "--seed",
        `rebalance-${topic}`,
        "--duplicate-pct",
        "2",
        "--late-pct",
        "2",
        "--malformed-pct",
        "1",
      ]);
      const total = manifest.acknowledged.total;
      const overrides = { CONSUMER_MAX_BYTES_PER_PARTITION: "8192", LOG_LEVEL: "info" };
      const reach = async (share: number) => {
        await waitFor(async () => {
          const counts = await landedCounts(topic);
          return counts.events + counts.deadLetters + counts.duplicates >= share * total;
        }, { timeoutMs: 90_000, message: `landing did not reach ${share * 100}%`, intervalMs: 50 });
      };
      consumers.push(new ConsumerProcess(topic, group, overrides));
      await reach(0.1);
      console.log("second consumer joins");
      consumers.push(new ConsumerProcess(topic, group, overrides));
      await reach(0.3);
      console.log("third consumer joins");
      consumers.push(new ConsumerProcess(topic, group, overrides));
      await reach(0.55);
      console.log("first consumer leaves (SIGTERM)");
      assertEquals(await consumers[0]!.stop(), 0);
      await waitCaughtUp(group, topic, 120_000, consumers, total);
      const joins = consumers.map((c) => c.logLines(/"Joined group"/).length);
      console.log(`group joins per consumer: ${joins.join(", ")}`);
      for (const consumer of consumers.slice(1)) assertEquals(await consumer.stop(), 0);
      await assertMatchesManifest(topic, manifest);
    } finally {
      for (const consumer of consumers) consumer.kill("SIGKILL");
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
