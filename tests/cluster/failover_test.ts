/**
 * The `cluster` suite (make test, instance `cluster`: three KRaft nodes, order topics with
 * replication factor 3 and min.insync.replicas 2): a broker SIGKILLed mid-stream, and a consumer
 * SIGKILLed while a broker is down. Each time the producer keeps producing (acks=all,
 * idempotent), nothing acknowledged is lost or doubled, and the cluster heals.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { waitFor } from "../streaming/helpers.ts";
import { busiestLeader, groupCoordinator, partitionLeaders } from "./cluster.ts";
import { failoverTest, killNode } from "./failover.ts";

failoverTest("SIGKILL the broker leading the most partitions mid-stream, restart it: 0 lost", {
  name: "leader_kill",
  consumers: 1,
  rate: 500,
  seconds: 25,
  disrupt: async (context) => {
    await killNode(context, (await busiestLeader(context.topic)).node);
  },
});

failoverTest("two consumers, one SIGKILLed while a broker is down: the survivor takes over", {
  name: "consumer_kill",
  consumers: 2,
  rate: 500,
  seconds: 20,
  disrupt: async (context) => {
    const { topic, group, consumers, say } = context;
    // A broker other than the group's coordinator (make chaos stops that one).
    const { node } = await busiestLeader(topic, [await groupCoordinator(group)]);
    const [survivor, victim] = [consumers[0]!, consumers[1]!];
    const partitions = (await partitionLeaders(topic)).size;
    // The partitions the survivor's last join gave it (the consumer logs its assignment).
    const owned = () => {
      const line = survivor.logLines(/"Joined group"/).at(-1);
      const assignment = line ? JSON.parse(line).assignment as Record<string, number[]> : {};
      return assignment[topic]?.length ?? 0;
    };
    say(`the survivor owns ${owned()} of ${partitions} partitions`);
    await killNode(context, node, async () => {
      say(`SIGKILL consumer pid ${victim.pid} while the broker is down`);
      victim.kill("SIGKILL");
      assertEquals((await victim.exited).signal, "SIGKILL");
      // The group notices the dead member after its session timeout and hands its partitions
      // to the survivor.
      await waitFor(() => Promise.resolve(owned() === partitions), {
        timeoutMs: 60_000,
        message: `the surviving consumer did not take over:\n${survivor.logTail()}`,
      });
      say(`the survivor owns all ${partitions} partitions`);
    });
    assert(survivor.running, `the surviving consumer exited:\n${survivor.logTail()}`);
  },
});
