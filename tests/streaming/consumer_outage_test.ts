/**
 * Restart PostgreSQL, and separately the Kafka broker, while the consumer works through a
 * pre-filled topic: it retries with back-off, recovers on its own (the same process, no
 * restart), and nothing is lost or doubled. Only in the isolated test instance: these tests
 * restart that instance's services.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  deleteTopics,
  fillTopic,
  isTestInstance,
  landedCounts,
  restartService,
  streamNames,
  waitCaughtUp,
  waitFor,
} from "./helpers.ts";

async function outage(service: "postgres" | "kafka"): Promise<void> {
  const { topic, group } = streamNames(service);
  try {
    const manifest = await fillTopic(topic, {
      count: 20_000,
      seed: `outage-${topic}`,
      duplicatePct: 2,
      malformedPct: 1,
    });
    const consumer = new ConsumerProcess(topic, group, {
      CONSUMER_MAX_BYTES_PER_PARTITION: "8192",
      LOG_LEVEL: "info",
    });
    await waitFor(async () => (await landedCounts(topic)).events >= 2_000, {
      timeoutMs: 60_000,
      message: `consumer did not start landing:\n${consumer.logTail()}`,
      intervalMs: 50,
    });
    const atRestart = (await landedCounts(topic)).events;
    console.log(`restarting ${service} after ${atRestart} events landed`);
    await restartService(service);
    await waitCaughtUp(group, topic, 120_000, [consumer], manifest.acknowledged.total);
    const landedBefore = atRestart < manifest.acknowledged.valid;
    assert(landedBefore, "the restart came after the consumer had finished");
    const retried = consumer.logLines(/Landing failed, will retry|consumer failed, restarting/i);
    console.log(`  recovered; ${retried.length} retry log lines`);
    assertEquals(await consumer.stop(), 0, `consumer did not exit 0:\n${consumer.logTail()}`);
    await assertMatchesManifest(topic, manifest);
  } finally {
    await deleteTopics(topic);
  }
}

Deno.test({
  name: "PostgreSQL restart mid-consumption: nothing lost or doubled, recovery without help",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => outage("postgres"),
});

Deno.test({
  name: "broker restart mid-consumption: nothing lost or doubled, recovery without help",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    try {
      await outage("kafka");
    } finally {
      await closeSql();
    }
  },
});
