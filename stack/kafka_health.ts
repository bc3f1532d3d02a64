/**
 * Health check of the Kafka broker: a real bootstrap query (cluster metadata through the
 * broker's client listener), not a port probe. Exit 0 when the broker answers with a controller.
 */
import { Kafka, logLevel } from "kafkajs";

const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",");
const admin = new Kafka({
  clientId: "stack-health",
  brokers,
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
  connectionTimeout: 2000,
  requestTimeout: 5000,
}).admin();

try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  Deno.exit(cluster.brokers.length > 0 && cluster.controller !== null ? 0 : 1);
} catch {
  Deno.exit(1);
}
