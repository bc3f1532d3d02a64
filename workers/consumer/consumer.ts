/**
 * The consumer loop: a kafkajs group member on the order events topic whose every batch goes
 * through the batch handler. Auto-commit is off and eachBatch's auto-resolve is off, fixed here
 * (not configurable): exactly-once depends on both.
 */
import type { Consumer, Kafka } from "kafkajs";
import {
  backoffDelay,
  errorChain,
  isRetriable,
  type Logger,
  type Pool,
  withClient,
} from "../shared/mod.ts";
import { createBatchHandler, type HandlerStats } from "./batch_handler.ts";
import type { LatencyRecorder } from "./metrics.ts";

/** Settings of one consumer instance. */
export interface ConsumerSettings {
  topic: string;
  group: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxBytesPerPartition: number;
  partitionsConcurrently: number;
}

/** A running consumer: `stopped` settles with the exit code once `stop` (or a fatal error) ran. */
export interface RunningConsumer {
  stop(reason: string): Promise<void>;
  stopped: Promise<number>;
  stats: HandlerStats;
}

/** Starts consuming; returns once the consumer has subscribed and runs. */
export async function startConsumer(
  kafka: Kafka,
  pool: Pool,
  options: { settings: ConsumerSettings; logger: Logger; metrics?: LatencyRecorder | undefined },
): Promise<RunningConsumer> {
  const { settings, logger } = options;
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  let stopping: Promise<void> | null = null;
  let exitCode = 0;

  const consumer: Consumer = kafka.consumer({
    groupId: settings.group,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(60_000, settings.sessionTimeoutMs),
    maxBytesPerPartition: settings.maxBytesPerPartition,
    // One fetch round is landed before the next starts: its bytes bound the consumer's memory.
    maxBytes: settings.maxBytesPerPartition * settings.partitionsConcurrently,
    maxWaitTimeInMs: 1_000,
    allowAutoTopicCreation: false,
    readUncommitted: false,
    retry: {
      retries: 8,
      initialRetryTime: 300,
      maxRetryTime: 10_000,
      // Kafka outages are ridden out: kafkajs restarts the consumer after its retries.
      restartOnFailure: (error: Error) => {
        logger.warn("Kafka consumer failed, restarting", { error: errorChain(error) });
        return Promise.resolve(true);
      },
    },
  });

  const stop = (reason: string): Promise<void> => {
    if (stopping) return stopping;
    logger.info("Stopping: finishing the batch in flight", { reason });
    stopping = (async () => {
      try {
        await consumer.disconnect();
      } catch (error) {
        logger.warn("Kafka disconnect failed", { error: errorChain(error) });
      }
      logger.info("Stopped", { ...handler.stats });
      resolveStopped(exitCode);
    })();
    return stopping;
  };

  const handler = createBatchHandler({
    pool,
    group: settings.group,
    logger,
    seek: (target) => consumer.seek(target),
    onFatal: (error) => {
      logger.error("Landing failed with an error no retry can fix", { error: errorChain(error) });
      exitCode = 1;
      void stop("fatal error");
    },
    metrics: options.metrics,
  });

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    logger.info("Joined group", {
      group: settings.group,
      member_id: event.payload.memberId,
      leader: event.payload.isLeader,
      assignment: event.payload.memberAssignment,
    });
  });
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    if (!restart) {
      logger.error("Kafka consumer crashed and will not restart", { error: errorChain(error) });
      exitCode = 1;
      void stop("consumer crashed");
    }
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [settings.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: settings.partitionsConcurrently,
    eachBatch: handler.eachBatch,
  });
  logger.info("Consuming", { topic: settings.topic, group: settings.group });
  return { stop, stopped, stats: handler.stats };
}

/** Waits until PostgreSQL answers and the loader can use the landing tables; retries outages. */
export async function checkDatabase(
  pool: Pool,
  logger: Logger,
  stopRequested: () => boolean = () => false,
): Promise<void> {
  for (let attempt = 1; !stopRequested(); attempt++) {
    try {
      await withClient(pool, async (client) => {
        const { rows: [row] } = await client.query(
          `select
             has_table_privilege('raw.order_events', 'insert') as events,
             has_table_privilege('raw.order_events_dead_letters', 'insert') as dead_letters,
             has_table_privilege('raw.order_events_duplicates', 'insert') as duplicates,
             has_table_privilege('raw.consumer_offsets', 'insert, update') as offsets,
             has_database_privilege(current_database(), 'temporary') as temporary`,
        );
        const missing = Object.entries(row ?? {}).filter(([, granted]) => !granted);
        if (missing.length > 0) {
          throw new Error(`Role lacks privileges on: ${missing.map(([name]) => name).join(", ")}`);
        }
      });
      return;
    } catch (error) {
      if (!isRetriable(error)) throw error;
      const delay = backoffDelay(attempt + 1, { initialMs: 250, maxMs: 10_000 });
      logger.warn("PostgreSQL not reachable yet, will retry", {
        attempt,
        delay_ms: delay,
        error: errorChain(error),
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
