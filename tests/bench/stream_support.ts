/**
 * What the stream benchmarks share (tests/bench/stream_bench.ts, stream_history_bench.ts):
 * a database per benchmark, topics, the simulator's producer, and the real consumer worker as a
 * child process with its sustained landing rate measured from its committed offsets.
 */
import process from "node:process";
import { Kafka, logLevel } from "kafkajs";
// @ts-types="@types/pg"
import pg from "pg";
import { createLogger } from "../../workers/shared/mod.ts";
import { fallbackCatalog } from "../../workers/producer/catalog.ts";
import { MessageStream } from "../../workers/producer/chaos.ts";
import { OrderSimulator } from "../../workers/producer/lifecycle.ts";
import { keyPartitioner } from "../../workers/producer/partitions.ts";
import { newManifest, publish } from "../../workers/producer/publisher.ts";
import { Random } from "../../workers/producer/random.ts";
import { topicSettings } from "../../stack/topic_settings.ts";
import { KafkaProducerSession, topicPartitionCount } from "../../workers/producer/session.ts";

const env = Deno.env.toObject();
const ROOT = new URL("../../", import.meta.url).pathname;
const BROKERS = (env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
/** Kafka nodes of the instance the benchmark runs in (its topics are replicated like order_events). */
export const KAFKA_NODES = Number(env.KAFKA_NODES ?? 1);
const logger = createLogger("bench-stream", { level: "warn" });
// kafkajs 2.2.4 schedules a timer with a negative delay; Deno warns about it on every client.
process.removeAllListeners("warning");

/** The Kafka client of the benchmarks (no logging). */
export const kafka = new Kafka({
  clientId: "bench-stream",
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
});

/** A client to `database` as the superuser or the loader role (not yet connected). */
export function pgClient(database: string, role: "super" | "loader" = "super"): pg.Client {
  return new pg.Client({
    host: env.PGHOST ?? "127.0.0.1",
    port: Number(env.PGPORT ?? 5432),
    database,
    user: role === "super" ? env.POSTGRES_USER ?? "postgres" : "loader",
    password: role === "super"
      ? env.POSTGRES_PASSWORD ?? "postgres"
      : env.LOADER_PASSWORD ?? "loader",
  });
}

/** One statement in `database` as the superuser; returns its rows. */
export async function query<T extends pg.QueryResultRow>(
  database: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = pgClient(database);
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Runs `cmd` from the repository root; throws with its stderr unless it exits 0. */
export async function run(
  cmd: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const output = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: extraEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** Drops `database` if it exists and creates it again with every migration. */
export async function freshDatabase(database: string): Promise<void> {
  await dropDatabase(database);
  await run("deno", ["task", "migrate"], { WAREHOUSE_DB: database, PGDATABASE: database });
}

/** Drops `database` if it exists. */
export async function dropDatabase(database: string): Promise<void> {
  await query("postgres", `drop database if exists "${database}" with (force)`);
}

/** A new 6-partition topic, replicated and configured as the stack creates order_events. */
export async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const { replicationFactor, configEntries } = topicSettings(KAFKA_NODES, 24 * 3600 * 1000);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 6, replicationFactor, configEntries }],
  });
  await admin.disconnect();
}

/** Waits until `group` is stable with `members` members; false after `timeoutMs`. */
export async function waitGroupStable(
  group: string,
  members: number,
  timeoutMs = 30_000,
): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const until = Date.now() + timeoutMs; Date.now() < until;) {
      const { groups } = await admin.describeGroups([group]);
      if (groups[0]?.state === "Stable" && groups[0].members.length === members) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes `topic`, ignoring a missing one. */
export async function deleteTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
}

/** Sends `count` valid events (or, with a rate, for `seconds`) with the simulator's publisher. */
export async function produce(
  topic: string,
  options: { count?: number; rate: number; seconds?: number },
): Promise<{ sent: number; ms: number }> {
  const seed = `bench-${topic}`;
  const random = new Random(seed);
  const catalog = fallbackCatalog({ from: 1, to: 10 }, { from: 1, to: 20 }, new Random(seed));
  const stream = new MessageStream(new OrderSimulator(random, catalog), random, {
    duplicatePct: 0,
    latePct: 0,
    malformedPct: 0,
  });
  const partitionOf = keyPartitioner(await topicPartitionCount(kafka, topic));
  const session = await KafkaProducerSession.open(kafka, logger);
  const manifest = newManifest({
    topic,
    seed,
    catalog: { source: catalog.source, users: 10, products: 20 },
    chaos: { duplicate_pct: 0, late_pct: 0, malformed_pct: 0 },
  });
  const started = performance.now();
  await publish(session, stream, manifest, {
    topic,
    rate: options.rate,
    partitionOf,
    count: options.count,
    durationS: options.seconds,
    maxBatch: 2_000,
    keepIds: false,
    logger,
  });
  await session.disconnect();
  return { sent: manifest.acknowledged.total, ms: performance.now() - started };
}

/** How the consumer child process is tuned (defaults: the worker's own and the task's flags). */
export interface ConsumerOptions {
  v8Flags?: string | undefined;
  concurrency?: string | undefined;
  maxBytes?: string | undefined;
}

/** The V8 flags of the `consumer` task in deno.json (what the stack runs), if any. */
export function consumerV8Flags(): string | undefined {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  return /--v8-flags=(\S+)/.exec(config.tasks?.consumer ?? "")?.[1];
}

/** The consumer worker as a child process into `database`, as the stack runs it. */
export function startConsumer(
  database: string,
  topic: string,
  group: string,
  metricsFile: string,
  options: ConsumerOptions = {},
): Deno.ChildProcess {
  const v8Flags = options.v8Flags ?? consumerV8Flags();
  return new Deno.Command("deno", {
    args: [
      "run",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      `--allow-write=${metricsFile}`,
      ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
      "workers/consumer/main.ts",
    ],
    cwd: ROOT,
    env: {
      PGDATABASE: database,
      PGUSER: "loader",
      PGPASSWORD: env.LOADER_PASSWORD ?? "loader",
      ORDER_EVENTS_TOPIC: topic,
      CONSUMER_GROUP: group,
      CONSUMER_METRICS_FILE: metricsFile,
      LOG_LEVEL: "warn",
      ...(options.concurrency ? { CONSUMER_PARTITIONS_CONCURRENTLY: options.concurrency } : {}),
      ...(options.maxBytes ? { CONSUMER_MAX_BYTES_PER_PARTITION: options.maxBytes } : {}),
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

async function landedOffsets(database: string, group: string): Promise<number> {
  const [row] = await query<{ total: string | null }>(
    database,
    "select sum(next_offset)::text as total from raw.consumer_offsets where consumer_group = $1",
    [group],
  );
  return Number(row?.total ?? 0);
}

/** Polls the group's committed offsets until `target` messages landed; returns the samples. */
export async function waitLanded(
  database: string,
  group: string,
  target: number,
  child: Deno.ChildProcess | Deno.ChildProcess[],
): Promise<Array<{ t: number; landed: number }>> {
  const samples: Array<{ t: number; landed: number }> = [];
  const children = Array.isArray(child) ? child : [child];
  for (;;) {
    const landed = await landedOffsets(database, group);
    samples.push({ t: performance.now(), landed });
    if (landed >= target) return samples;
    const exited = await Promise.race([
      ...children.map((one) => one.status),
      new Promise((r) => setTimeout(r, 200)),
    ]);
    if (exited) throw new Error("The consumer exited before landing everything");
  }
}

/** Sustained rate of a landing: first committed batch to the last, start-up and join excluded. */
export function sustainedRate(
  samples: Array<{ t: number; landed: number }>,
): { rate: number; ms: number; rows: number } {
  const first = samples.find((s) => s.landed > 0)!;
  const last = samples.at(-1)!;
  const ms = last.t - first.t;
  if (ms <= 0) {
    throw new Error(`Measure a landing rate: all ${last.landed} events landed within one poll`);
  }
  return { rate: (last.landed - first.landed) / (ms / 1000), ms, rows: last.landed - first.landed };
}

/** Stops the consumer with SIGTERM; throws unless it exits 0. */
export async function stopConsumer(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  const status = await child.status;
  if (status.code !== 0) throw new Error(`The consumer exited with ${status.code}`);
}

/** Peak resident set (VmHWM) of a live process, in MiB. Deno reads /proc only with -A. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await run("cat", [`/proc/${pid}/status`]).catch(() => "");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** User + system CPU time of a live process so far, in ms (from /proc/PID/stat). */
export async function cpuTimeMs(pid: number): Promise<number> {
  const stat = await run("cat", [`/proc/${pid}/stat`]).catch(() => "");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s on Linux.
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}
