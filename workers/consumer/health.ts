/**
 * `main.ts health`, the consumer daemon's health check (stack/services.json,
 * docker-compose.yml): healthy when its consumer group has members on the broker and is not
 * dead or empty. A consumer stuck without heartbeats (hung, or looping on an error) drops out of
 * the group after its session timeout and turns this check red. Unhealthy: a message naming the
 * group, its state and member count (or the broker failure), exit 1.
 */
import { logLevel } from "kafkajs";
import { createKafka, type Logger } from "../shared/mod.ts";

const HEALTHY_STATES = new Set(["Stable", "PreparingRebalance", "CompletingRebalance"]);

/** What the broker says about a group (the fields of kafkajs' GroupDescription used here). */
export interface GroupState {
  state: string;
  members: readonly unknown[];
}

/** Why `described` is unhealthy, or null when it is healthy. */
export function groupProblem(group: string, described: GroupState | undefined): string | null {
  if (described === undefined) return `Consumer group ${group} is unknown to the broker`;
  if (!HEALTHY_STATES.has(described.state) || described.members.length === 0) {
    return `Consumer group ${group} is unhealthy: state ${described.state}, ` +
      `${described.members.length} members`;
  }
  return null;
}

/** Checks the group of CONSUMER_GROUP on KAFKA_BROKERS; exit code 0 healthy, 1 not. */
export async function health(logger: Logger): Promise<number> {
  const brokers = Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092";
  const group = Deno.env.get("CONSUMER_GROUP") ?? "order-events-loader";
  const kafka = await createKafka(brokers, {
    clientId: "consumer-health",
    logger,
    level: logLevel.NOTHING,
    // The coordinator lookup needs the broker list first: allow a couple of quick retries.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    timeouts: { connectionMs: 2_000, requestMs: 5_000 },
  });
  const admin = kafka.admin();
  let described: GroupState | undefined;
  try {
    await admin.connect();
    described = (await admin.describeGroups([group])).groups[0];
  } catch (error) {
    throw new Error(`Describing consumer group ${group} on ${brokers} failed`, { cause: error });
  } finally {
    await admin.disconnect().catch(() => {});
  }
  const problem = groupProblem(group, described);
  if (problem === null) return 0;
  logger.error(problem, { group, brokers });
  return 1;
}
