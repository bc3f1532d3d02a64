/**
 * What `order_events` should look like on a cluster of N Kafka nodes: its replication factor
 * and the topic settings that make an acknowledged write survive a node (docs/decisions/0065).
 */

/** The topic's replication and settings for a cluster of `nodes`. */
export interface TopicSettings {
  replicationFactor: number;
  configEntries: Array<{ name: string; value: string }>;
}

/** Replication factor min(3, nodes); with 3 or more nodes a write needs 2 replicas in sync. */
export function topicSettings(nodes: number, retentionMs: number): TopicSettings {
  const replicationFactor = Math.min(3, nodes);
  return {
    replicationFactor,
    configEntries: [
      { name: "retention.ms", value: String(retentionMs) },
      { name: "cleanup.policy", value: "delete" },
      { name: "min.insync.replicas", value: replicationFactor >= 3 ? "2" : "1" },
      // A replica that was not in sync never becomes leader: that would drop acknowledged events.
      { name: "unclean.leader.election.enable", value: "false" },
    ],
  };
}

/** Why an existing topic's partitions do not match the wanted factor, or null when they do. */
export function replicationProblem(
  topic: string,
  replicasPerPartition: readonly number[],
  wanted: number,
  nodes: number,
): string | null {
  const lowest = Math.min(...replicasPerPartition);
  if (replicasPerPartition.length === 0 || lowest >= wanted) return null;
  return `Topic ${topic} has ${lowest} replica(s) on some partitions, but ${nodes} Kafka ` +
    `nodes want replication factor ${wanted}. Kafka does not raise it by itself: reassign its ` +
    `partitions (docs/operations.md, "Scaling out") or create the cluster's topic anew`;
}
