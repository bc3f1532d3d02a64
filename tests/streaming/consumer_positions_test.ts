/**
 * An event is its event_id, not its Kafka position (issue 11 item 6): re-reading a topic after
 * PostgreSQL's stored offsets were reset records no duplicates; on a re-created topic whose
 * offsets restart, new events at reused positions land; a stored offset beyond the log end
 * stops the consumer with an error naming it, and the stream status shows it.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  deleteTopicAndWait,
  deleteTopics,
  env,
  fillTopic,
  isTestInstance,
  landedCounts,
  sql,
  streamNames,
  waitCaughtUp,
  workerCommand,
} from "./helpers.ts";

/** Consumes `topic` as `group` to its end, then stops the consumer (exit 0). */
async function consumeAll(topic: string, group: string, total: number): Promise<void> {
  const consumer = new ConsumerProcess(topic, group);
  await waitCaughtUp(group, topic, 60_000, [consumer], total);
  assertEquals(await consumer.stop(), 0, `consumer did not exit 0:\n${consumer.logTail()}`);
}

const resetOffsets = (group: string, topic: string) =>
  sql("delete from raw.consumer_offsets where consumer_group = $1 and topic = $2", [group, topic]);

Deno.test({
  name: "re-read by a new group: no duplicates recorded, nothing doubled",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("reread");
    try {
      const manifest = await fillTopic(topic, {
        count: 3_000,
        seed: `reread-${topic}`,
        duplicatePct: 2,
        malformedPct: 1,
      });
      await consumeAll(topic, group, manifest.acknowledged.total);
      await assertMatchesManifest(topic, manifest);
      // A brand-new group (no offsets in PostgreSQL or Kafka) reads the topic from its start.
      await consumeAll(topic, `${group}_new`, manifest.acknowledged.total);
      await assertMatchesManifest(topic, manifest);
    } finally {
      await deleteTopics(topic);
    }
  },
});

Deno.test({
  name: "re-created topic, offsets reset: new events at reused positions land",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("recreate");
    try {
      const first = await fillTopic(topic, { count: 1_500, seed: `first-${topic}` });
      await consumeAll(topic, group, first.acknowledged.total);
      await deleteTopicAndWait(topic);
      const second = await fillTopic(topic, { count: 1_000, seed: `second-${topic}` });
      await resetOffsets(group, topic);
      await consumeAll(topic, group, second.acknowledged.total);
      const ids = [...first.valid_event_ids, ...second.valid_event_ids];
      const [row] = await sql<{ landed: number; distinct_ids: number; reused: number }>(
        `select count(*)::int as landed, count(distinct event_id)::int as distinct_ids,
           (count(*) - count(distinct (kafka_partition, kafka_offset)))::int as reused
         from raw.order_events where topic = $1 and event_id = any($2::uuid[])`,
        [topic, ids],
      );
      assertEquals(row?.landed, ids.length, "every event of both topics landed");
      assertEquals(row?.distinct_ids, ids.length, "no event landed twice");
      assert((row?.reused ?? 0) > 0, "the second topic reused positions of the first");
      assertEquals((await landedCounts(topic)).duplicates, 0, "no event taken for a duplicate");
    } finally {
      await deleteTopics(topic);
    }
  },
});

Deno.test({
  name: "a stored offset beyond the log end: the consumer stops naming it, status shows it",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { topic, group } = streamNames("beyond");
    try {
      const manifest = await fillTopic(topic, { count: 600, seed: `beyond-${topic}` });
      await sql(
        `insert into raw.consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
         select $1, $2, p, 1000000 from generate_series(0, 5) as p`,
        [group, topic],
      );
      const consumer = new ConsumerProcess(topic, group);
      const timer = setTimeout(() => consumer.kill("SIGKILL"), 30_000);
      const { code } = await consumer.exited;
      clearTimeout(timer);
      assertEquals(code, 1, `consumer did not stop with exit code 1:\n${consumer.logTail()}`);
      const named = consumer.logLines(
        new RegExp(
          `Stored offset 1000000 of ${topic}/\\d \\(group ${group}\\) is beyond the log end \\d+`,
        ),
      );
      assert(named.length > 0, `no error naming the offset:\n${consumer.logTail()}`);
      assertEquals((await landedCounts(topic)).events, 0);
      assert(manifest.acknowledged.total === 600);

      const status = await workerCommand("consumer/main.ts", ["status", "--json"], {
        env: {
          PGUSER: "loader",
          PGPASSWORD: env.LOADER_PASSWORD ?? "loader",
          ORDER_EVENTS_TOPIC: topic,
          CONSUMER_GROUP: group,
          LOG_LEVEL: "warn",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(status.code, 1, "status exits 1 on an offset beyond the log end");
      const report = JSON.parse(new TextDecoder().decode(status.stdout)) as {
        partitions: Array<{ beyond_log_end: boolean }>;
        problems: string[];
      };
      assertEquals(report.partitions.map((p) => p.beyond_log_end), Array(6).fill(true));
      assert(report.problems.some((p) => /stored offset 1000000 .* beyond the log end/.test(p)));
    } finally {
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
