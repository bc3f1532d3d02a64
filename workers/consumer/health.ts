/**
 * Health check of the consumer daemon (stack/services.json): exit 0 when its consumer group
 * has members on the broker and is not dead or empty. A consumer stuck without heartbeats
 * (hung, or looping on an error) drops out of the group after its session timeout and turns
 * this check red.
 */
import { Kafka, logLevel } from "kafkajs";

const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",");
const group = Deno.env.get("CONSUMER_GROUP") ?? "order-events-loader";
const admin = new Kafka({
  clientId: "consumer-health",
  brokers,
  logLevel: logLevel.NOTHING,
  // The coordinator lookup needs the broker list first: allow a couple of quick retries.
  retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  connectionTimeout: 2_000,
  requestTimeout: 5_000,
}).admin();

const HEALTHY_STATES = new Set(["Stable", "PreparingRebalance", "CompletingRebalance"]);

try {
  await admin.connect();
  const { groups } = await admin.describeGroups([group]);
  await admin.disconnect();
  const described = groups[0];
  const healthy = described !== undefined && HEALTHY_STATES.has(described.state) &&
    described.members.length > 0;
  Deno.exit(healthy ? 0 : 1);
} catch {
  Deno.exit(1);
}
