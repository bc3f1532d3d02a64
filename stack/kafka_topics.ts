/**
 * One-shot job: creates the project's Kafka topics (idempotent) and sets their retention.
 * `order_events`: ORDER_EVENTS_PARTITIONS partitions (6), replication min(3, KAFKA_NODES) with
 * min.insync.replicas 2 from 3 nodes on (stack/topic_settings.ts), retention
 * ORDER_EVENTS_RETENTION_MS. An existing topic with fewer partitions is grown; one with fewer
 * replicas than the cluster wants fails the job, naming the way out.
 */
import { Kafka, logLevel } from "kafkajs";
import { z } from "zod";
import { createLogger, parseConfig, runMain } from "../workers/shared/mod.ts";
import { replicationProblem, topicSettings } from "./topic_settings.ts";

const logger = createLogger("kafka-topics");
const config = parseConfig(z.object({
  KAFKA_BROKERS: z.string().min(1).default("127.0.0.1:9092"),
  ORDER_EVENTS_TOPIC: z.string().min(1).default("order_events"),
  ORDER_EVENTS_PARTITIONS: z.coerce.number().int().min(1).max(256).default(6),
  ORDER_EVENTS_RETENTION_MS: z.coerce.number().int().min(60_000).default(604_800_000),
  KAFKA_NODES: z.coerce.number().int().min(1).default(1),
}));

async function main(): Promise<void> {
  const admin = new Kafka({
    clientId: "kafka-topics",
    brokers: config.KAFKA_BROKERS.split(","),
    logLevel: logLevel.WARN,
  }).admin();
  await admin.connect();
  try {
    const topic = config.ORDER_EVENTS_TOPIC;
    const { replicationFactor, configEntries } = topicSettings(
      config.KAFKA_NODES,
      config.ORDER_EVENTS_RETENTION_MS,
    );
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic,
          numPartitions: config.ORDER_EVENTS_PARTITIONS,
          replicationFactor,
          configEntries,
        }],
      });
      logger.info("Created topic", {
        topic,
        partitions: config.ORDER_EVENTS_PARTITIONS,
        replicationFactor,
      });
      return;
    }
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const partitions = meta?.partitions.length ?? 0;
    const problem = replicationProblem(
      topic,
      (meta?.partitions ?? []).map((p) => p.replicas.length),
      replicationFactor,
      config.KAFKA_NODES,
    );
    // min.insync.replicas 2 on a topic with 1 replica would refuse every write: stop here.
    if (problem !== null) throw new Error(problem);
    if (partitions < config.ORDER_EVENTS_PARTITIONS) {
      await admin.createPartitions({
        topicPartitions: [{ topic, count: config.ORDER_EVENTS_PARTITIONS }],
      });
      logger.info("Grew topic", { topic, from: partitions, to: config.ORDER_EVENTS_PARTITIONS });
    }
    // 2 = ConfigResourceTypes.TOPIC
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: topic, configEntries }],
    });
    logger.info("Topic is up to date", {
      topic,
      partitions: Math.max(partitions, config.ORDER_EVENTS_PARTITIONS),
      replicationFactor,
    });
  } finally {
    await admin.disconnect();
  }
}

if (import.meta.main) {
  await runMain(logger, main);
}
