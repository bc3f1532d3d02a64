/**
 * Order event simulator: realistic order lifecycles for the Fake Store's users and products,
 * sent to Kafka (key = order id, acks -1, idempotent producer), with chaos knobs for tests.
 * Writes a manifest of what the broker acknowledged (--manifest) and prints its counts.
 *
 *   deno task producer                               # PRODUCER_RATE events/s until SIGTERM
 *   deno task producer --rate max --count 5000 --seed 7 --duplicate-pct 3 --late-pct 5 \
 *     --malformed-pct 4 --manifest /tmp/manifest.json
 *
 * Options (flag, or environment variable): --rate N|max (PRODUCER_RATE; 0 = off), --count N
 * (messages of every kind), --duration S, --seed TEXT (PRODUCER_SEED; default random),
 * --duplicate-pct, --late-pct, --malformed-pct (PRODUCER_*_PCT), --manifest PATH
 * (PRODUCER_MANIFEST), --no-ids (manifest without event ids), --topic (ORDER_EVENTS_TOPIC),
 * --catalog auto|fakestore|fallback (PRODUCER_CATALOG), --fallback-users 1-10,
 * --fallback-products 1-20 (PRODUCER_FALLBACK_USERS/PRODUCTS: ids used when the Fake Store
 * server at FAKESTORE_BASE_URL cannot be reached).
 *
 * SIGTERM/SIGINT: send what is drawn, write the manifest, exit 0; a timer exits 1 if that takes
 * longer than PRODUCER_SHUTDOWN_TIMEOUT_MS.
 *
 * A send that fails is resent (or the producer recreated first, after a producer-state error
 * such as OUT_OF_ORDER_SEQUENCE_NUMBER) for up to PRODUCER_RETRY_BUDGET_MS (default 300000) per
 * batch; then the batch is counted in the manifest's `unacknowledged`, the manifest is written
 * and the run exits 1 (docs/decisions/0067).
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { createKafka, handleShutdown, type Logger, parseConfig } from "../shared/mod.ts";
import { loadCatalog, parseIdRange } from "./catalog.ts";
import { MessageStream } from "./chaos.ts";
import { OrderSimulator } from "./lifecycle.ts";
import { keyPartitioner } from "./partitions.ts";
import { newManifest, publish } from "./publisher.ts";
import { Random } from "./random.ts";
import { KafkaProducerSession, topicPartitionCount } from "./session.ts";

const pct = z.coerce.number().min(0).max(100);
const configSchema = z.object({
  KAFKA_BROKERS: z.string().min(1).default("127.0.0.1:9092"),
  ORDER_EVENTS_TOPIC: z.string().min(1).default("order_events"),
  FAKESTORE_BASE_URL: z.url().default("http://127.0.0.1:3000"),
  PRODUCER_RATE: z.union([z.literal("max"), z.coerce.number().min(0).max(1_000_000)]).default(5),
  PRODUCER_COUNT: z.coerce.number().int().min(1).optional(),
  PRODUCER_DURATION_S: z.coerce.number().min(0.1).optional(),
  PRODUCER_SEED: z.string().min(1).optional(),
  PRODUCER_DUPLICATE_PCT: pct.default(0),
  PRODUCER_LATE_PCT: pct.default(0),
  PRODUCER_MALFORMED_PCT: pct.default(0),
  PRODUCER_MANIFEST: z.string().min(1).optional(),
  PRODUCER_KEEP_IDS: z.enum(["true", "false"]).default("true"),
  PRODUCER_CATALOG: z.enum(["auto", "fakestore", "fallback"]).default("auto"),
  PRODUCER_CATALOG_TIMEOUT_MS: z.coerce.number().int().min(0).default(15_000),
  PRODUCER_FALLBACK_USERS: z.string().default("1-10").transform(parseIdRange),
  PRODUCER_FALLBACK_PRODUCTS: z.string().default("1-20").transform(parseIdRange),
  // A file touched after each acknowledged send: the stack's health check reads its age.
  PRODUCER_HEARTBEAT_FILE: z.string().min(1).optional(),
  PRODUCER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  // How long one batch may be retried (broker outage) before the run gives it up and stops.
  PRODUCER_RETRY_BUDGET_MS: z.coerce.number().int().min(1_000).default(300_000),
});

/** Command-line flags become the environment variables they stand for (flags win). */
function flagsToEnv(args: string[]): Record<string, string> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      rate: { type: "string" },
      count: { type: "string" },
      duration: { type: "string" },
      seed: { type: "string" },
      "duplicate-pct": { type: "string" },
      "late-pct": { type: "string" },
      "malformed-pct": { type: "string" },
      manifest: { type: "string" },
      "no-ids": { type: "boolean" },
      topic: { type: "string" },
      catalog: { type: "string" },
      "fallback-users": { type: "string" },
      "fallback-products": { type: "string" },
    },
  });
  const env: Record<string, string> = {};
  const map: Record<string, string> = {
    rate: "PRODUCER_RATE",
    count: "PRODUCER_COUNT",
    duration: "PRODUCER_DURATION_S",
    seed: "PRODUCER_SEED",
    "duplicate-pct": "PRODUCER_DUPLICATE_PCT",
    "late-pct": "PRODUCER_LATE_PCT",
    "malformed-pct": "PRODUCER_MALFORMED_PCT",
    manifest: "PRODUCER_MANIFEST",
    topic: "ORDER_EVENTS_TOPIC",
    catalog: "PRODUCER_CATALOG",
    "fallback-users": "PRODUCER_FALLBACK_USERS",
    "fallback-products": "PRODUCER_FALLBACK_PRODUCTS",
  };
  for (const [flag, name] of Object.entries(map)) {
    const value = values[flag as keyof typeof values];
    if (typeof value === "string") env[name] = value;
  }
  if (values["no-ids"]) env.PRODUCER_KEEP_IDS = "false";
  return env;
}

/** Sends events until count, duration or a signal says stop; returns the exit code. */
export async function run(logger: Logger, args: string[]): Promise<number> {
  const config = parseConfig(configSchema, { ...Deno.env.toObject(), ...flagsToEnv(args) });
  const rate = config.PRODUCER_RATE === "max" ? Infinity : config.PRODUCER_RATE;
  if (rate === 0) {
    logger.info("Rate is 0: the simulator is switched off");
    return 0;
  }
  const seed = config.PRODUCER_SEED ?? crypto.randomUUID();
  const catalog = await loadCatalog(config.PRODUCER_CATALOG, {
    baseUrl: config.FAKESTORE_BASE_URL,
    users: config.PRODUCER_FALLBACK_USERS,
    products: config.PRODUCER_FALLBACK_PRODUCTS,
    random: new Random(`${seed}:catalog`),
    logger,
    timeoutMs: config.PRODUCER_CATALOG_TIMEOUT_MS,
  });
  const random = new Random(seed);
  const simulator = new OrderSimulator(random, catalog);
  const stream = new MessageStream(simulator, random, {
    duplicatePct: config.PRODUCER_DUPLICATE_PCT,
    latePct: config.PRODUCER_LATE_PCT,
    malformedPct: config.PRODUCER_MALFORMED_PCT,
  });
  const topic = config.ORDER_EVENTS_TOPIC;
  const manifest = newManifest({
    topic,
    seed,
    catalog: {
      source: catalog.source,
      users: catalog.userIds.length,
      products: catalog.products.length,
    },
    chaos: {
      duplicate_pct: config.PRODUCER_DUPLICATE_PCT,
      late_pct: config.PRODUCER_LATE_PCT,
      malformed_pct: config.PRODUCER_MALFORMED_PCT,
    },
  });

  const kafka = await createKafka(config.KAFKA_BROKERS, {
    clientId: "order-events-producer",
    logger,
  });
  const partitionOf = keyPartitioner(await topicPartitionCount(kafka, topic));
  const session = await KafkaProducerSession.open(kafka, logger);

  // After a stop request a failing batch is retried for at most half the shutdown timeout, so
  // that the manifest (with what was given up) is written before the timer exits.
  let giveUpAt = Infinity;
  const shutdown = handleShutdown({
    logger,
    timeoutMs: config.PRODUCER_SHUTDOWN_TIMEOUT_MS,
    onStop: (signal) => {
      giveUpAt = performance.now() + config.PRODUCER_SHUTDOWN_TIMEOUT_MS / 2;
      logger.info("Stopping: sending what is drawn, then the manifest", { signal });
    },
  });
  let lastBeat = 0;
  const heartbeatFile = config.PRODUCER_HEARTBEAT_FILE;
  logger.info("Producing", {
    topic,
    rate: config.PRODUCER_RATE,
    count: config.PRODUCER_COUNT,
    duration_s: config.PRODUCER_DURATION_S,
    seed,
    catalog: manifest.catalog,
    chaos: manifest.chaos,
  });
  let failure: unknown = null;
  try {
    await publish(session, stream, manifest, {
      topic,
      rate,
      partitionOf,
      count: config.PRODUCER_COUNT,
      durationS: config.PRODUCER_DURATION_S,
      keepIds: config.PRODUCER_KEEP_IDS === "true" && config.PRODUCER_MANIFEST !== undefined,
      retryBudgetMs: config.PRODUCER_RETRY_BUDGET_MS,
      shouldContinue: () => shutdown.requested() === null,
      giveUpBy: () => giveUpAt,
      onAck: () => {
        if (heartbeatFile && Date.now() - lastBeat > 1_000) {
          lastBeat = Date.now();
          Deno.writeTextFileSync(heartbeatFile, `${new Date(lastBeat).toISOString()}\n`);
        }
      },
      logger,
    });
  } catch (error) {
    // The manifest is written either way: what was given up is in `unacknowledged`.
    failure = error;
  }
  await session.disconnect().catch(() => {});
  manifest.orders = { ...simulator.stats };
  if (config.PRODUCER_MANIFEST) {
    await Deno.writeTextFile(config.PRODUCER_MANIFEST, JSON.stringify(manifest) + "\n");
  }
  const { valid_event_ids: _ids, unacknowledged, ...rest } = manifest;
  const { event_ids: _unacknowledgedIds, ...unacknowledgedCounts } = unacknowledged;
  console.log(JSON.stringify({ ...rest, unacknowledged: unacknowledgedCounts }));
  if (failure !== null) throw failure;
  logger.info("Done", { acknowledged: manifest.acknowledged.total });
  return 0;
}
