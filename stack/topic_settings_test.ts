import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { replicationProblem, topicSettings } from "./topic_settings.ts";

const setting = (nodes: number, name: string): string | undefined =>
  topicSettings(nodes, 60_000).configEntries.find((entry) => entry.name === name)?.value;

Deno.test("one node keeps factor 1 and needs only the leader in sync", () => {
  assertEquals(topicSettings(1, 60_000).replicationFactor, 1);
  assertEquals(setting(1, "min.insync.replicas"), "1");
  assertEquals(setting(1, "retention.ms"), "60000");
});

Deno.test("three or more nodes replicate 3 times and need 2 in sync, no unclean election", () => {
  assertEquals(topicSettings(3, 60_000).replicationFactor, 3);
  assertEquals(topicSettings(5, 60_000).replicationFactor, 3);
  assertEquals(setting(3, "min.insync.replicas"), "2");
  assertEquals(setting(3, "unclean.leader.election.enable"), "false");
});

Deno.test("a topic below the wanted factor is named with its lowest factor", () => {
  const problem = replicationProblem("order_events", [3, 1, 3], 3, 3);
  assertMatch(problem ?? "", /^Topic order_events has 1 replica\(s\) .* 3 Kafka nodes want .* 3/);
  assertEquals(replicationProblem("order_events", [3, 3], 3, 3), null);
  assertEquals(replicationProblem("order_events", [1], 1, 1), null);
});
