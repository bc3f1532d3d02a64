/**
 * Health check of one Kafka node: a real bootstrap query (cluster metadata through the node's
 * client listener), not a port probe. Exit 0 when the node answers, the cluster has a
 * controller and the node itself is among the registered brokers (a node that has not joined
 * its quorum yet is not listed).
 *
 *   stack/kafka_health.ts [HOST:PORT]   (default: the first of KAFKA_BROKERS)
 */
import { Kafka, logLevel } from "kafkajs";

const node = Deno.args[0] ?? (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",")[0]!;
const admin = new Kafka({
  clientId: "stack-health",
  brokers: [node],
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
  connectionTimeout: 2000,
  requestTimeout: 5000,
}).admin();

try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  const port = Number(node.split(":").at(-1));
  const listed = cluster.brokers.some((broker) => broker.port === port);
  Deno.exit(listed && cluster.controller !== null ? 0 : 1);
} catch {
  Deno.exit(1);
}
