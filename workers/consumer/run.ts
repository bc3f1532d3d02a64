/**
 * Order events consumer: lands Kafka topic ORDER_EVENTS_TOPIC in PostgreSQL exactly once.
 *
 * Valid events go to raw.order_events, refused messages to raw.order_events_dead_letters and
 * repeated event_ids to raw.order_events_duplicates, all with the partition's next offset in
 * raw.consumer_offsets in one transaction per batch; Kafka's committed offset follows only
 * after that commit (docs/decisions/0040). Connects to PostgreSQL as `loader`.
 *
 * SIGTERM/SIGINT: stop fetching, finish the batch in flight, leave the group, exit 0; a timer
 * exits 1 if that takes longer than CONSUMER_SHUTDOWN_TIMEOUT_MS.
 *
 *   deno task consumer        (workers/consumer/main.ts run)
 */
import { z } from "zod";
import {
  createKafka,
  createPool,
  handleShutdown,
  intFromEnv,
  type Logger,
  parseConfig,
  pgEnv,
} from "../shared/mod.ts";
import { checkDatabase, type RunningConsumer, startConsumer } from "./consumer.ts";
import { LatencyRecorder } from "./metrics.ts";

const configSchema = z.object({
  ...pgEnv,
  KAFKA_BROKERS: z.string().min(1).default("127.0.0.1:9092"),
  ORDER_EVENTS_TOPIC: z.string().min(1).default("order_events"),
  CONSUMER_GROUP: z.string().min(1).default("order-events-loader"),
  // Each replica its own client id, so `make status` tells the group's members apart.
  CONSUMER_CLIENT_ID: z.string().min(1).default("order-events-consumer"),
  // Kafka's broker accepts 6 s to 30 min; short values let a restarted consumer rejoin sooner.
  CONSUMER_SESSION_TIMEOUT_MS: intFromEnv(6_000, 1_800_000).default(30_000),
  CONSUMER_HEARTBEAT_INTERVAL_MS: intFromEnv(100, 60_000).default(3_000),
  // Bytes fetched per partition, so the largest batch one transaction lands (~5-8k events).
  // Larger batches add little throughput but much memory (docs/performance.md).
  CONSUMER_MAX_BYTES_PER_PARTITION: intFromEnv(1024, 64 * 1024 * 1024).default(2 * 1024 * 1024),
  // Batches landed at once (each its own transaction): one per partition of order_events, so
  // a fetch round takes as long as its slowest batch, not the sum of all six.
  CONSUMER_PARTITIONS_CONCURRENTLY: intFromEnv(1, 64).default(6),
  CONSUMER_SHUTDOWN_TIMEOUT_MS: intFromEnv(1_000, 600_000).default(30_000),
  // Benchmark only: where to write the latency summary on exit.
  CONSUMER_METRICS_FILE: z.string().min(1).optional(),
});

/** Consumes until SIGTERM/SIGINT or a fatal error; returns the exit code. */
export async function run(logger: Logger): Promise<number> {
  const config = parseConfig(configSchema);
  // Signals are taken from the start: one during start-up stops the consumer once it runs.
  let running: RunningConsumer | null = null;
  const shutdown = handleShutdown({
    logger,
    timeoutMs: config.CONSUMER_SHUTDOWN_TIMEOUT_MS,
    onStop: (signal) => {
      if (running) void running.stop(signal);
      else logger.info("Stop requested during start-up", { signal });
    },
  });
  const stopRequest = () => shutdown.requested();

  const metrics = config.CONSUMER_METRICS_FILE ? new LatencyRecorder() : undefined;
  const pool = createPool(config, {
    applicationName: `consumer:${config.CONSUMER_GROUP}`,
    max: config.CONSUMER_PARTITIONS_CONCURRENTLY + 1,
  });
  // An idle client whose server went away must not crash the process.
  pool.on("error", (error) => logger.warn("Idle PostgreSQL client failed", { error }));
  await checkDatabase(pool, logger, () => stopRequest() !== null);
  if (stopRequest() !== null) {
    await pool.end();
    return 0;
  }
  const kafka = await createKafka(config.KAFKA_BROKERS, {
    clientId: config.CONSUMER_CLIENT_ID,
    logger,
  });
  const consumer = await startConsumer(kafka, pool, {
    settings: {
      topic: config.ORDER_EVENTS_TOPIC,
      group: config.CONSUMER_GROUP,
      sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: config.CONSUMER_HEARTBEAT_INTERVAL_MS,
      maxBytesPerPartition: config.CONSUMER_MAX_BYTES_PER_PARTITION,
      partitionsConcurrently: config.CONSUMER_PARTITIONS_CONCURRENTLY,
    },
    logger,
    metrics,
  });
  running = consumer;
  const signal = stopRequest();
  if (signal !== null) void consumer.stop(signal);
  const progress = setInterval(() => logger.info("Progress", { ...consumer.stats }), 30_000);
  Deno.unrefTimer(progress);
  const code = await consumer.stopped;
  await pool.end().catch(() => {});
  if (metrics && config.CONSUMER_METRICS_FILE) {
    await Deno.writeTextFile(
      config.CONSUMER_METRICS_FILE,
      JSON.stringify({ stats: consumer.stats, latency: metrics.summary() }) + "\n",
    );
  }
  return code;
}
