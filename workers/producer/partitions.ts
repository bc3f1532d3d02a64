/**
 * The simulator picks each message's partition itself, with kafkajs' default partitioner (Java's
 * murmur2 on the key, so one order's events share a partition), and checks every answer against
 * it. kafkajs 2.2.4 keeps the answers of brokers that replied across its retries and only resends
 * to brokers without one: when a broker dies mid-send and its partitions move to a broker that
 * had already answered, `send` resolves without ever sending them (tulios/kafkajs#1798). An
 * answer that lacks a partition, or reports an error for it, leaves those messages unsent.
 */
import { Partitioners, type RecordMetadata } from "kafkajs";

/** The partition of a key among `partitionCount` partitions, as the Java client computes it. */
export function keyPartitioner(partitionCount: number): (key: string) => number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`Partition count must be a positive integer, got ${partitionCount}`);
  }
  const partitioner = Partitioners.DefaultPartitioner();
  // For a keyed message the partitioner reads only the number of partitions.
  const partitionMetadata = Array.from(
    { length: partitionCount },
    (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [], partitionErrorCode: 0 }),
  );
  return (key) => partitioner({ topic: "", partitionMetadata, message: { key, value: null } });
}

/** Partitions in `sent` that `answer` does not acknowledge for `topic` (missing or in error). */
export function unacknowledgedPartitions(
  topic: string,
  sent: Iterable<number>,
  answer: readonly RecordMetadata[],
): Set<number> {
  const acknowledged = new Set(
    answer.filter((entry) => entry.topicName === topic && entry.errorCode === 0)
      .map((entry) => entry.partition),
  );
  return new Set([...sent].filter((partition) => !acknowledged.has(partition)));
}
