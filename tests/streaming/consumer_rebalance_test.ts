/**
 * Two, then three consumers in one group on a pre-filled topic, joining and leaving while they
 * land: each rebalance moves partitions between members that may still have a batch in flight
 * (kafkajs has no awaited revoke hook). Nothing is lost or doubled.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  accountedFor,
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  deleteTopics,
  fillTopic,
  streamNames,
  waitCaughtUp,
  waitFor,
} from "./helpers.ts";

Deno.test({
  name: "two and three consumers in one group, rebalancing while running: nothing lost or doubled",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("rebalance");
    const consumers: ConsumerProcess[] = [];
    try {
      const manifest = await fillTopic(topic, {
        count: 30_000,
        seed: `rebalance-${topic}`,
        duplicatePct: 2,
        latePct: 2,
        malformedPct: 1,
      });
      const total = manifest.acknowledged.total;
      const overrides = { CONSUMER_MAX_BYTES_PER_PARTITION: "8192", LOG_LEVEL: "info" };
      const reach = async (share: number) => {
        await waitFor(async () => (await accountedFor(topic)) >= share * total, {
          timeoutMs: 90_000,
          message: `landing did not reach ${share * 100}%`,
          intervalMs: 50,
        });
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
