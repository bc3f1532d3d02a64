/**
 * The consumer end to end on a chaos mix: a few thousand events with duplicates, late events and
 * every kind of malformed message. Raw rows + dead letters + dropped duplicates equal the
 * producer's manifest exactly, each order's events land in order, SIGTERM exits 0, a restart
 * changes nothing, and a fixed dead letter replays into the raw table exactly once.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  deleteTopics,
  env,
  fillTopic,
  landedCounts,
  sql,
  streamNames,
  waitCaughtUp,
  workerCommand,
} from "./helpers.ts";

const { topic, group } = streamNames("chaos");

async function replay(args: string[]): Promise<Record<string, unknown>> {
  const output = await workerCommand("dlq_replay/main.ts", args, {
    env: { PGUSER: "loader", PGPASSWORD: env.LOADER_PASSWORD ?? "loader", LOG_LEVEL: "warn" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, `dlq-replay failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test({
  name: "chaos mix: raw + dead letters + duplicates = the manifest, per-key order kept",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const manifest = await fillTopic(topic, {
      count: 4_000,
      seed: `chaos-${topic}`,
      duplicatePct: 4,
      latePct: 6,
      malformedPct: 5,
    });
    assertEquals(manifest.acknowledged.total, 4000);
    for (const [kind, n] of Object.entries(manifest.acknowledged.malformed)) {
      assert(n > 0, `the mix has no ${kind} message`);
    }
    assert(manifest.acknowledged.duplicate > 0 && manifest.acknowledged.late > 0);
    const consumer = new ConsumerProcess(topic, group);
    try {
      await waitCaughtUp(group, topic, 90_000, [consumer], manifest.acknowledged.total);
    } finally {
      assertEquals(await consumer.stop(), 0, `consumer did not exit 0:\n${consumer.logTail()}`);
    }
    assert(consumer.logLines(/"Stopped"/).length === 1, "consumer did not stop gracefully");
    await assertMatchesManifest(topic, manifest);

    // A restart of the same group lands nothing new.
    const before = await landedCounts(topic);
    const again = new ConsumerProcess(topic, group);
    await waitCaughtUp(group, topic, 60_000, [again], manifest.acknowledged.total);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assertEquals(await again.stop(), 0);
    assertEquals(await landedCounts(topic), before);
  },
});

Deno.test({
  name: "a fixed dead letter replays into the raw table exactly once",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    try {
      // An operator fixes two dead letters of an unknown schema version.
      const fixable = await sql<{ id: string; raw_text: string; message_key: string }>(
        `select id, raw_text, message_key from raw.order_events_dead_letters
         where topic = $1 and error_message like '%schema_version%' order by id limit 2`,
        [topic],
      );
      assertEquals(fixable.length, 2, "the chaos mix has unknown-version dead letters");
      for (const row of fixable) {
        const fixed = JSON.stringify({ ...JSON.parse(row.raw_text), schema_version: 1 });
        await sql("update raw.order_events_dead_letters set fixed_value = $2 where id = $1", [
          row.id,
          new TextEncoder().encode(fixed),
        ]);
      }
      const [first, second] = fixable as [typeof fixable[0], typeof fixable[0]];
      const before = await landedCounts(topic);

      const dry = await replay(["--id", first.id, "--dry-run"]);
      assertEquals([dry.replayed, dry.dry_run], [1, true]);
      assertEquals(await landedCounts(topic), before, "a dry run writes nothing");

      const once = await replay(["--id", first.id]);
      assertEquals([once.examined, once.replayed], [1, 1]);
      const twice = await replay(["--id", first.id]);
      assertEquals([twice.examined, twice.replayed], [0, 0], "a replayed dead letter is done");

      // Two replays at once over everything of the topic: the second fixed row lands once.
      const [a, b] = await Promise.all([
        replay(["--topic", topic, "--error-class", "schema"]),
        replay(["--topic", topic, "--error-class", "schema", "--since", "2000-01-01"]),
      ]);
      assertEquals(Number(a.replayed) + Number(b.replayed), 1);
      const rest = await replay(["--topic", topic]);
      assertEquals(rest.replayed, 0, "nothing else passes");
      assert(Number(rest.still_invalid) > 0);

      const after = await landedCounts(topic);
      assertEquals(after.events, before.events + 2);
      assertEquals(after.deadLetters, before.deadLetters, "dead letters stay as evidence");
      const landed = await sql<{ n: number; replayed: number }>(
        `select count(*)::int as n,
                count(*) filter (where dl.replayed_event_id = e.event_id)::int as replayed
         from raw.order_events_dead_letters as dl
         join raw.order_events as e
           on e.topic = dl.topic and e.kafka_partition = dl.kafka_partition
          and e.kafka_offset = dl.kafka_offset
         where dl.id = any($1::bigint[])`,
        [[first.id, second.id]],
      );
      assertEquals(landed, [{ n: 2, replayed: 2 }], "landed with the dead letter's envelope");
    } finally {
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
