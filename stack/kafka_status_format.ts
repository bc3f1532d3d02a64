/**
 * `make status`, the Kafka part (pure): every node with its ports and whether the cluster lists
 * it, the KRaft controller quorum, and the under-replicated partitions of a topic.
 */

/** A node as configured: node.id, name and its two listeners. */
export interface NodeConfig {
  id: number;
  name: string;
  broker: string;
  controller: string;
}

/** One voter (or observer) of the quorum, as Kafka's DescribeQuorum reports it. */
export interface QuorumReplica {
  id: number;
  log_end_offset: number;
  last_caught_up_ms: number;
}

/** The controller quorum (stack/kafka/QuorumStatus.java's JSON line). */
export interface Quorum {
  leader_id: number;
  leader_epoch: number;
  high_watermark: number;
  voters: QuorumReplica[];
  observers: QuorumReplica[];
}

/** A partition of the topic (the fields of kafkajs' PartitionMetadata used here). */
export interface PartitionReplicas {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** Everything the Kafka section shows; a part that could not be read is its error text. */
export interface KafkaReport {
  topic: string;
  nodes: NodeConfig[];
  /** node.ids the cluster metadata lists (registered, not fenced), or why it was not read. */
  registered: number[] | string;
  partitions: PartitionReplicas[] | string;
  quorum: Quorum | string;
}

/** The configured nodes: node i is `kafka` (i = 1) or `kafka-i`, on the i-th listeners. */
export function nodeConfigs(brokers: string, controllers: string): NodeConfig[] {
  const controllerList = controllers.split(",").filter(Boolean);
  return brokers.split(",").filter(Boolean).map((broker, index) => ({
    id: index + 1,
    name: index === 0 ? "kafka" : `kafka-${index + 1}`,
    broker,
    controller: controllerList[index] ?? "-",
  }));
}

/** Partitions whose in-sync replicas are fewer than their replicas (or that have no leader). */
export function underReplicated(partitions: readonly PartitionReplicas[]): PartitionReplicas[] {
  return partitions.filter((p) => p.isr.length < p.replicas.length || p.leader < 0)
    .sort((a, b) => a.partitionId - b.partitionId);
}

function nodeState(node: NodeConfig, report: KafkaReport): string {
  if (typeof report.registered === "string") return "unknown";
  return report.registered.includes(node.id) ? "up" : "DOWN";
}

function leads(node: NodeConfig, report: KafkaReport): string {
  if (typeof report.partitions === "string") return "-";
  return String(report.partitions.filter((p) => p.leader === node.id).length);
}

function quorumLines(quorum: Quorum | string): string[] {
  if (typeof quorum === "string") return [`  controller quorum: unavailable (${quorum})`];
  const leader = quorum.leader_id < 0 ? "none" : `node ${quorum.leader_id}`;
  const voters = [...quorum.voters].sort((a, b) => a.id - b.id).map((v) => {
    const name = `${v.id}${v.id === quorum.leader_id ? " (leader)" : ""}`;
    // The leader knows no log end of a voter that has not fetched since the election.
    if (v.log_end_offset < 0) return `${name} not fetching`;
    // Lag: metadata records the voter has not replicated yet (up to the high watermark).
    return `${name} lag ${Math.max(0, quorum.high_watermark - v.log_end_offset)}`;
  });
  const lines = [
    `  controller quorum: leader ${leader} (epoch ${quorum.leader_epoch}), ` +
    `high watermark ${quorum.high_watermark}`,
    `  voters: ${voters.join(", ")}`,
  ];
  if (quorum.observers.length > 0) {
    lines.push(`  observers: ${quorum.observers.map((o) => o.id).join(", ")}`);
  }
  return lines;
}

function replicationLines(topic: string, partitions: PartitionReplicas[] | string): string[] {
  if (typeof partitions === "string") {
    return [`  under-replicated partitions of ${topic}: unknown (${partitions})`];
  }
  const behind = underReplicated(partitions);
  const factor = Math.min(...partitions.map((p) => p.replicas.length));
  const head = `  under-replicated partitions of ${topic} (${partitions.length} partitions, ` +
    `factor ${partitions.length > 0 ? factor : "-"}): ${behind.length || "none"}`;
  return [
    head,
    ...behind.map((p) =>
      `    partition ${p.partitionId}: leader ${p.leader < 0 ? "NONE" : p.leader}, ` +
      `replicas ${p.replicas.join(",")}, in sync ${p.isr.join(",") || "none"}`
    ),
  ];
}

/** The Kafka section of `make status`, one string per line. */
export function kafkaLines(report: KafkaReport): string[] {
  const lines = [
    `kafka (${report.nodes.length} node${report.nodes.length === 1 ? "" : "s"}, KRaft)`,
    `  ${"node".padEnd(4)}  ${"name".padEnd(9)} ${"broker".padEnd(21)} ${"controller".padEnd(21)} ${
      "state".padEnd(7)
    } leads`,
  ];
  for (const node of report.nodes) {
    lines.push(
      `  ${String(node.id).padStart(4)}  ${node.name.padEnd(9)} ${node.broker.padEnd(21)} ${
        node.controller.padEnd(21)
      } ${nodeState(node, report).padEnd(7)} ${leads(node, report)}`,
    );
  }
  if (typeof report.registered === "string") {
    lines.push(`  cluster metadata: unavailable (${report.registered})`);
  }
  return [
    ...lines,
    ...quorumLines(report.quorum),
    ...replicationLines(report.topic, report.partitions),
  ];
}
