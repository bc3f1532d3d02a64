/**
 * What the failover tests ask of the cluster instance's Kafka nodes: who leads which partition,
 * which node coordinates a consumer group, which one is the active controller, how many
 * partitions are under-replicated, and each node's stack service name (node 1 is `kafka`,
 * node i is `kafka-i`).
 */
import { env, kafka } from "../streaming/helpers.ts";

/** The stack service name of Kafka node `id`. */
export function nodeName(id: number): string {
  return id === 1 ? "kafka" : `kafka-${id}`;
}

/** Leader node id per partition of `topic` (-1 while a partition has none). */
export async function partitionLeaders(topic: string): Promise<Map<number, number>> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(topics[0]!.partitions.map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}

/** The node leading the most partitions of `topic`, leaving out `except`; with its count. */
export async function busiestLeader(
  topic: string,
  except: readonly number[] = [],
): Promise<{ node: number; partitions: number }> {
  const counts = new Map<number, number>();
  for (const leader of (await partitionLeaders(topic)).values()) {
    if (leader >= 0 && !except.includes(leader)) counts.set(leader, (counts.get(leader) ?? 0) + 1);
  }
  const [node, partitions] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [];
  if (node === undefined) {
    throw new Error(`No partition of ${topic} has a leader outside ${except}`);
  }
  return { node, partitions: partitions! };
}

/** Partitions of `topic` whose in-sync replicas are fewer than their replicas. */
export async function underReplicated(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.filter((p) => p.isr.length < p.replicas.length).length;
  } finally {
    await admin.disconnect();
  }
}

/** Java's String.hashCode. */
function javaHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The node coordinating `group`: the leader of the __consumer_offsets partition the group maps
 * to, as the broker computes it (Utils.abs(groupId.hashCode) % partitions).
 */
export async function groupCoordinator(group: string): Promise<number> {
  const leaders = await partitionLeaders("__consumer_offsets");
  const hash = javaHash(group);
  const partition = (hash === -2147483648 ? 0 : Math.abs(hash)) % leaders.size;
  return leaders.get(partition)!;
}

/** The active controller's node id, as the KRaft quorum reports it (MetadataQuorumCommand). */
export async function activeController(): Promise<number> {
  const nodes = Number(env.KAFKA_NODES ?? 1);
  // Any live node's controller port answers; try them in turn (one may be the node just killed).
  const failures: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const address = `127.0.0.1:${Number(env.KAFKA_CONTROLLER_PORT) + 2 * i}`;
    const output = await new Deno.Command("java", {
      args: [
        "-Xmx64m",
        "-cp",
        `${env.KAFKA_LIBS}/*`,
        "org.apache.kafka.tools.MetadataQuorumCommand",
        "--bootstrap-controller",
        address,
        "describe",
        "--status",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    const leader = /^LeaderId:\s+(\d+)/m.exec(text)?.[1];
    if (output.success && leader !== undefined) return Number(leader);
    failures.push(`${address}: ${new TextDecoder().decode(output.stderr).slice(-300)}`);
  }
  throw new Error(`No controller answered DescribeQuorum:\n${failures.join("\n")}`);
}
