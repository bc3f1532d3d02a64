/**
 * `make status`, the Kafka part (stack/status_extra.sh): every configured node (KAFKA_BROKERS,
 * KAFKA_CONTROLLERS, derived by the stack manager from KAFKA_NODES), whether the cluster lists
 * it, the partitions it leads; the controller quorum through Kafka's own Admin client
 * (stack/kafka/QuorumStatus.java: kafkajs has no DescribeQuorum); under-replicated partitions
 * of ORDER_EVENTS_TOPIC. A part that cannot be read is named, the rest still shown.
 */
import { logLevel } from "kafkajs";
import { createKafka, createLogger } from "../workers/shared/mod.ts";
import { kafkaLines, type KafkaReport, nodeConfigs, type Quorum } from "./kafka_status_format.ts";

const env = (key: string, fallback: string): string => Deno.env.get(key) || fallback;
const brokers = env("KAFKA_BROKERS", "127.0.0.1:9092");
const topic = env("ORDER_EVENTS_TOPIC", "order_events");

const message = (error: unknown): string => (error as Error).message ?? String(error);

async function quorum(): Promise<Quorum | string> {
  const libs = Deno.env.get("KAFKA_LIBS");
  if (!libs) return "KAFKA_LIBS is not set";
  const run = await new Deno.Command("java", {
    args: ["-cp", `${libs}/*`, "stack/kafka/QuorumStatus.java", brokers],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(run.stdout).trim();
  if (!run.success || !out.startsWith("{")) {
    const err = new TextDecoder().decode(run.stderr).trim().split("\n");
    return err.find((line) => /Exception|Error/.test(line))?.slice(0, 200) ?? "no answer";
  }
  return JSON.parse(out) as Quorum;
}

const admin = (await createKafka(brokers, {
  clientId: "stack-status",
  logger: createLogger("kafka-status"),
  level: logLevel.NOTHING,
  retry: { retries: 1 },
  timeouts: { connectionMs: 2_000, requestMs: 5_000 },
})).admin();
const quorumRead = quorum().catch(message);
const report: KafkaReport = {
  topic,
  nodes: nodeConfigs(brokers, env("KAFKA_CONTROLLERS", "")),
  registered: "not read",
  partitions: "not read",
  quorum: "not read",
};
try {
  await admin.connect();
  report.registered = (await admin.describeCluster()).brokers.map((b) => b.nodeId);
  report.partitions = await admin.fetchTopicMetadata({ topics: [topic] })
    .then((meta) => meta.topics[0]?.partitions ?? [])
    .catch(message);
} catch (error) {
  report.registered = message(error);
  report.partitions = "cluster unreachable";
} finally {
  await admin.disconnect().catch(() => {});
}
report.quorum = await quorumRead;
console.log(kafkaLines(report).join("\n"));
