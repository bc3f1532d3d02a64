import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  kafkaLines,
  type KafkaReport,
  nodeConfigs,
  type PartitionReplicas,
  underReplicated,
} from "./kafka_status_format.ts";

const NODES = nodeConfigs(
  "127.0.0.1:49092,127.0.0.1:49094,127.0.0.1:49096",
  "127.0.0.1:49093,127.0.0.1:49095,127.0.0.1:49097",
);
const partition = (id: number, leader: number, isr: number[]): PartitionReplicas => ({
  partitionId: id,
  leader,
  replicas: [1, 2, 3],
  isr,
});

Deno.test("nodes are named and numbered in broker-list order with their controller", () => {
  assertEquals(NODES[0], {
    id: 1,
    name: "kafka",
    broker: "127.0.0.1:49092",
    controller: "127.0.0.1:49093",
  });
  assertEquals(NODES.map((n) => n.name), ["kafka", "kafka-2", "kafka-3"]);
  assertEquals(nodeConfigs("127.0.0.1:9092", "")[0]?.controller, "-");
});

Deno.test("a partition is under-replicated when its in-sync set is short or it has no leader", () => {
  const found = underReplicated([
    partition(2, 1, [1, 3]),
    partition(0, 1, [1, 2, 3]),
    partition(1, -1, [1, 2, 3]),
  ]);
  assertEquals(found.map((p) => p.partitionId), [1, 2]);
});

Deno.test("a down node, the quorum and the short partitions are all shown", () => {
  const report: KafkaReport = {
    topic: "order_events",
    nodes: NODES,
    registered: [1, 3],
    partitions: [partition(0, 1, [1, 3]), partition(1, 3, [3, 1, 2])],
    quorum: {
      leader_id: 1,
      leader_epoch: 9,
      high_watermark: 1413,
      voters: [
        { id: 3, log_end_offset: 1400, last_caught_up_ms: 0 },
        { id: 1, log_end_offset: 1413, last_caught_up_ms: 0 },
        { id: 2, log_end_offset: -1, last_caught_up_ms: -1 },
      ],
      observers: [],
    },
  };
  const lines = kafkaLines(report);
  assertEquals(lines[0], "kafka (3 nodes, KRaft)");
  assert(/^\s+2\s+kafka-2\s+127\.0\.0\.1:49094\s+127\.0\.0\.1:49095\s+DOWN\s+0$/.test(lines[3]!));
  assert(/^\s+1\s+kafka\s+\S+\s+\S+\s+up\s+1$/.test(lines[2]!));
  assertEquals(lines[5], "  controller quorum: leader node 1 (epoch 9), high watermark 1413");
  assertEquals(lines[6], "  voters: 1 (leader) lag 0, 2 not fetching, 3 lag 13");
  assertEquals(
    lines[7],
    "  under-replicated partitions of order_events (2 partitions, factor 3): 1",
  );
  assertEquals(lines[8], "    partition 0: leader 1, replicas 1,2,3, in sync 1,3");
});

Deno.test("parts that could not be read are named, not guessed", () => {
  const lines = kafkaLines({
    topic: "order_events",
    nodes: nodeConfigs("127.0.0.1:9092", "127.0.0.1:9093"),
    registered: "Connection error: connect ECONNREFUSED",
    partitions: "cluster unreachable",
    quorum: "no answer",
  });
  assertEquals(lines[0], "kafka (1 node, KRaft)");
  assert(/\sunknown\s+-$/.test(lines[2]!));
  assertEquals(
    lines[3],
    "  cluster metadata: unavailable (Connection error: connect ECONNREFUSED)",
  );
  assertEquals(lines[4], "  controller quorum: unavailable (no answer)");
  assertEquals(
    lines[5],
    "  under-replicated partitions of order_events: unknown (cluster unreachable)",
  );
});
