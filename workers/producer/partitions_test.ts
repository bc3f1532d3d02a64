import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { keyPartitioner, unacknowledgedPartitions } from "./partitions.ts";

Deno.test("keyPartitioner matches the Java client's murmur2 (Kafka's UtilsTest vectors)", () => {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2: murmur2(key) for these keys; the
  // partition is (hash & 0x7fffffff) % count.
  const vectors: Array<[string, number]> = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["abc", 479470107],
  ];
  for (const count of [6, 7, 1_000, 65_536]) {
    const partitionOf = keyPartitioner(count);
    for (const [key, hash] of vectors) {
      assertEquals(partitionOf(key), (hash & 0x7fffffff) % count, `${key} over ${count}`);
    }
  }
});

Deno.test("keyPartitioner refuses a partition count that is not a positive integer", () => {
  throws(
    () => keyPartitioner(0),
    /^RangeError: Partition count must be a positive integer, got 0$/,
  );
  throws(() => keyPartitioner(2.5), /got 2\.5$/);
});

Deno.test("unacknowledgedPartitions: missing, in error or of another topic", () => {
  const entry = (topicName: string, partition: number, errorCode = 0) => ({
    topicName,
    partition,
    errorCode,
    baseOffset: "10",
  });
  assertEquals(
    unacknowledgedPartitions("t", [0, 1, 2, 3], [entry("t", 0), entry("t", 1, 6), entry("u", 2)]),
    new Set([1, 2, 3]),
  );
  assertEquals(unacknowledgedPartitions("t", [0, 3], [entry("t", 3), entry("t", 0)]), new Set());
});
