/**
 * What the failover tests ask of the cluster instance's Kafka nodes: who leads which partition,
 * which node coordinates a consumer group, which one is the active controller, how many
 * partitions are under-replicated, and each node's stack service name (node 1 is `kafka`,
 * node i is `kafka-i`).
 */
import { env, kafka, REPO } from "../streaming/helpers.ts";

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

/**
 * The active controller's node id, as the KRaft quorum reports it (Kafka's own Admin client:
 * stack/kafka/QuorumStatus.java, which `make status` runs too); null while none is elected or
 * the quorum does not answer.
 */
export async function activeController(): Promise<number | null> {
  const output = await new Deno.Command("java", {
    args: ["-cp", `${env.KAFKA_LIBS}/*`, "stack/kafka/QuorumStatus.java", env.KAFKA_BROKERS!],
    cwd: REPO,
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success || !text.startsWith("{")) return null;
  const leader = (JSON.parse(text) as { leader_id: number }).leader_id;
  return leader >= 0 ? leader : null;
}
