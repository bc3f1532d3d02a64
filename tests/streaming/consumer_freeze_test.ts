/**
 * Freeze PostgreSQL (SIGSTOP, no restart) while the consumer works through a pre-filled topic,
 * for longer than the consumer's client-side query timeout: the consumer must notice within
 * that timeout (a frozen server never answers, so only the client can), keep its group
 * membership, recover after the thaw, and land everything exactly once. Test instance only.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  deleteTopics,
  fillTopic,
  freezePostgres,
  isTestInstance,
  landedCounts,
  streamNames,
  waitCaughtUp,
  waitFor,
} from "./helpers.ts";

const QUERY_TIMEOUT_MS = 1_500;
const FREEZE_MS = 8_000;

Deno.test({
  name: "PostgreSQL frozen mid-consumption: client timeouts fire, nothing lost or doubled",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("freeze");
    try {
      const manifest = await fillTopic(topic, {
        count: 10_000,
        seed: `freeze-${topic}`,
        duplicatePct: 2,
        malformedPct: 1,
      });
      const consumer = new ConsumerProcess(topic, group, {
        CONSUMER_MAX_BYTES_PER_PARTITION: "8192",
        PG_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        PG_CONNECT_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        PG_STATEMENT_TIMEOUT_MS: "1000",
        PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: "1000",
      });
      await waitFor(async () => (await landedCounts(topic)).events >= 1_000, {
        timeoutMs: 60_000,
        message: `consumer did not start landing:\n${consumer.logTail()}`,
        intervalMs: 50,
      });
      const timedOut =
        /Query read timeout|timeout exceeded when trying to connect|connection timeout/;
      const thaw = await freezePostgres();
      const frozenAt = Date.now();
      try {
        // No query may reach PostgreSQL here: only the consumer's log is read.
        await waitFor(() => Promise.resolve(consumer.logLines(timedOut).length > 0), {
          timeoutMs: FREEZE_MS,
          message: `no client-side timeout while PostgreSQL was frozen:\n${consumer.logTail()}`,
          intervalMs: 100,
        });
        console.log(`  client-side timeout after ${Date.now() - frozenAt} ms of freeze`);
        await new Promise((resolve) => setTimeout(resolve, FREEZE_MS - (Date.now() - frozenAt)));
      } finally {
        thaw();
      }
      await waitCaughtUp(group, topic, 60_000, [consumer], manifest.acknowledged.total);
      assert(
        consumer.logLines(/"level":"alert"|no retry can fix/).length === 0,
        `the freeze was taken for a fatal error:\n${consumer.logTail()}`,
      );
      assertEquals(await consumer.stop(), 0, `consumer did not exit 0:\n${consumer.logTail()}`);
      await assertMatchesManifest(topic, manifest);
    } finally {
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
