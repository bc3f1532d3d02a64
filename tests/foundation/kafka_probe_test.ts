/**
 * The kafkajs probe: npm:kafkajs under Deno against the project's KRaft broker can create
 * topics, produce idempotently with acks=-1, and consume in a group with manual commits.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";

const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",");

Deno.test({
  name: "kafkajs creates a topic, produces idempotently and consumes in a group",
  // kafkajs keeps internal timers alive briefly after disconnect
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const topic = `probe_${suffix}`;
    const kafka = new Kafka({ clientId: "probe", brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `probe_${suffix}` });
    try {
      assert.equal(
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] }),
        true,
      );
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(meta.topics[0]?.partitions.length, 3);

      await producer.connect();
      const sent = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
      const acks = await producer.send({ topic, acks: -1, messages: sent });
      // One ack per partition written to; an empty list would mean nothing was acknowledged.
      assert.ok(acks.length > 0, "the broker acknowledged no partition");
      assert.deepEqual(acks.filter((ack) => ack.errorCode !== 0), []);

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: string[] = [];
      await new Promise<void>((resolve, reject) => {
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            for (const message of batch.messages) {
              received.push(message.value?.toString() ?? "");
              resolveOffset(message.offset);
            }
            await consumer.commitOffsets([{
              topic,
              partition: batch.partition,
              offset: String(Number(batch.lastOffset()) + 1),
            }]);
            await heartbeat();
            if (received.length >= sent.length) resolve();
          },
        }).catch(reject);
      });
      assert.deepEqual(received.sort(), sent.map((m) => m.value).sort());
      const committed = await admin.fetchOffsets({ groupId: `probe_${suffix}`, topics: [topic] });
      const total = committed[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
      assert.equal(total, sent.length, "the group's committed offsets cover every message");
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  },
});
