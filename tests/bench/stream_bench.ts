/**
 * Benchmark of the streaming path (not a test), `deno task bench:stream`:
 *
 * 1. Pre-fills a fresh 6-partition topic with N valid events (default 1,000,000).
 * 2. One consumer: runs the real consumer on it (exactly-once path: one transaction per batch
 *    with the partition offsets, unique indexes on) and measures its sustained landing rate,
 *    CPU per event and peak RSS; then, in the same run, `psql \copy` of the very rows it landed
 *    into the emptied table over one connection (the ceiling: no Kafka, no validation, no
 *    offsets). The two alternate --runs times; medians and the ratio.
 * 3. Two consumers: two consumer processes in one group (3 partitions each) against two
 *    `psql \copy` in parallel, each loading half the rows (the partitions 0-2 and 3-5).
 * 4. Latency: produces at --latency-rate (default 20,000 events/s) into another topic with the
 *    consumer caught up; p50/p95/p99 of produce-to-committed-row latency (the consumer's commit
 *    time minus the Kafka timestamp the producer set) and the rate the producer achieved.
 *
 * With --cluster-only (stack/bench.sh runs it in the 3-node `bench-cluster` instance) only step
 * 4 runs, on a topic replicated like order_events there, and its figures go to --out; the main
 * run reads them back with --cluster-result. The last line printed is the summary:
 *   stream: 1 consumer X.XX x copy, 2 consumers Y.YY x copy(2 conns), peak RSS N MiB, p99 at 20k/s N ms
 * (with ", cluster p99 N ms" when the cluster figures are there).
 *
 * Writes the figures and the machine into the "Streaming" section of docs/performance.md
 * (skip with --no-write). Uses its own database (BENCH_STREAM_DB, default bench_stream, dropped
 * and re-created) and its own topics, so it can run beside anything else on the instance.
 *
 *   deno task bench:stream [--events 1000000] [--runs 3] [--latency-rate 20000]
 *                          [--latency-seconds 30] [--concurrency 6] [--max-bytes 524288]
 *                          [--v8-flags ...] [--no-write] [--keep]
 *                          [--cluster-only --out FILE] [--cluster-result FILE]
 */
import { parseArgs } from "node:util";
import {
  cpuTimeMs,
  createTopic,
  deleteTopic,
  dropDatabase,
  freshDatabase,
  KAFKA_NODES,
  peakRssMiB,
  produce,
  query as queryIn,
  run,
  startConsumer as startConsumerIn,
  stopConsumer,
  sustainedRate,
  waitGroupStable,
  waitLanded as waitLandedIn,
} from "./stream_support.ts";
import { median } from "./stats.ts";
import {
  type ClusterFigures,
  fmt,
  type LatencyFigures,
  type RunFigures,
  section,
  summaryLine,
  writeSection,
} from "./stream_report.ts";

const env = Deno.env.toObject();
const ROOT = new URL("../../", import.meta.url).pathname;
const DB = env.BENCH_STREAM_DB ?? "bench_stream";
const PSQL = env.PG_BIN ? `${env.PG_BIN}/psql` : "psql";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    "latency-rate": { type: "string", default: "20000" },
    "latency-seconds": { type: "string", default: "30" },
    concurrency: { type: "string" },
    "max-bytes": { type: "string" },
    "v8-flags": { type: "string" },
    "no-write": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "cluster-only": { type: "boolean", default: false },
    out: { type: "string" },
    "cluster-result": { type: "string" },
  },
});
const EVENTS = Number(flags.events);
const LATENCY_RATE = Number(flags["latency-rate"]);
const LATENCY_SECONDS = Number(flags["latency-seconds"]);
const RUNS = Number(flags.runs);

const query = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
  queryIn<T>(DB, text, params);
const startConsumer = (topic: string, group: string, metricsFile: string) =>
  startConsumerIn(DB, topic, group, metricsFile, {
    v8Flags: flags["v8-flags"],
    concurrency: flags.concurrency,
    maxBytes: flags["max-bytes"],
  });
const waitLanded = (
  group: string,
  target: number,
  child: Deno.ChildProcess | Deno.ChildProcess[],
) => waitLandedIn(DB, group, target, child);

const COLUMNS = "event_id, payload, topic, kafka_partition, kafka_offset, message_key, " +
  "kafka_timestamp";

function psqlArgs(sql: string): string[] {
  const host = env.PGHOST ?? "127.0.0.1";
  const port = env.PGPORT ?? "5432";
  return ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-d", DB, "-c", sql];
}

const SUPER_ENV = {
  PGUSER: env.POSTGRES_USER ?? "postgres",
  PGPASSWORD: env.POSTGRES_PASSWORD ?? "postgres",
};
const LOADER_ENV = { PGUSER: "loader", PGPASSWORD: env.LOADER_PASSWORD ?? "loader" };

/** Empties the landing tables and checkpoints, so both paths start from the same state. */
async function emptyTables(): Promise<void> {
  await run(
    PSQL,
    psqlArgs(
      "truncate raw.order_events, raw.order_events_duplicates, raw.order_events_dead_letters, " +
        "raw.consumer_offsets; checkpoint",
    ),
    SUPER_ENV,
  );
}

async function countRows(): Promise<number> {
  return (await query<{ n: number }>("select count(*)::int as n from raw.order_events"))[0]!.n;
}

/** A landing of the whole pre-filled topic by `consumers` processes in one new group. */
async function throughput(topic: string, consumers: number, run: number): Promise<RunFigures> {
  await emptyTables();
  const group = `bench-${topic}-${consumers}-${run}`;
  const metrics = await Promise.all(
    Array.from({ length: consumers }, () => Deno.makeTempFile({ suffix: ".json" })),
  );
  const children = metrics.map((file) => startConsumer(topic, group, file));
  // With two members the first may start alone; the rate counts from the settled group on.
  const stable = consumers > 1
    ? waitGroupStable(group, consumers).then((ok) => (ok ? performance.now() : Infinity))
    : Promise.resolve(0);
  const samples = await waitLanded(group, EVENTS, children);
  const settledAt = await stable;
  if (settledAt === Infinity) throw new Error(`Group ${group} never had ${consumers} members`);
  const peaks = await Promise.all(children.map((child) => peakRssMiB(child.pid)));
  const cpuMs = await Promise.all(children.map((child) => cpuTimeMs(child.pid)));
  await Promise.all(children.map(stopConsumer));
  await Promise.all(metrics.map((file) => Deno.remove(file).catch(() => {})));
  const rows = await countRows();
  if (rows !== EVENTS) throw new Error(`Landed ${rows} rows, expected ${EVENTS}`);
  const settled = samples.filter((sample) => sample.t >= settledAt);
  return {
    ...sustainedRate(settled.length >= 2 ? settled : samples),
    peakMiB: Math.max(...peaks),
    // CPU the consumer processes used over their whole life (start-up included), per event.
    cpuUsPerEvent: (cpuMs.reduce((sum, ms) => sum + ms, 0) * 1000) / EVENTS,
  };
}

/** Writes the landed rows of `partitions` to a file, for `psql \copy` to load. */
async function exportRows(topic: string, partitions: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".tsv" });
  const select = `select ${COLUMNS} from raw.order_events ` +
    `where topic = '${topic}' and kafka_partition ${partitions}`;
  await run(PSQL, psqlArgs(`\\copy (${select}) to '${file}'`), SUPER_ENV);
  return file;
}

/** `psql \copy` of the files into the emptied table, one connection each, in parallel. */
async function copyCeiling(files: string[]): Promise<{ rate: number; ms: number }> {
  await emptyTables();
  const started = performance.now();
  await Promise.all(
    files.map((file) =>
      run(PSQL, psqlArgs(`\\copy raw.order_events (${COLUMNS}) from '${file}'`), LOADER_ENV)
    ),
  );
  const ms = performance.now() - started;
  const rows = await countRows();
  if (rows !== EVENTS) throw new Error(`\\copy loaded ${rows} rows, expected ${EVENTS}`);
  return { rate: rows / (ms / 1000), ms };
}

/** Produce-to-committed-row latency at LATENCY_RATE with one consumer caught up. */
async function latency(topic: string): Promise<LatencyFigures> {
  const group = `bench-${topic}`;
  const metrics = await Deno.makeTempFile({ suffix: ".json" });
  const child = startConsumer(topic, group, metrics);
  // The group has joined (its first, empty fetch round has stored nothing yet).
  if (!(await waitGroupStable(group, 1))) throw new Error(`Group ${group} never became stable`);
  const sent = await produce(topic, { rate: LATENCY_RATE, seconds: LATENCY_SECONDS });
  await waitLanded(group, sent.sent, child);
  const peak = await peakRssMiB(child.pid);
  await stopConsumer(child);
  const summary = JSON.parse(await Deno.readTextFile(metrics)).latency;
  await Deno.remove(metrics);
  return { ...summary, sent: sent.sent, achievedRate: sent.sent / (sent.ms / 1000), peakMiB: peak };
}

function latencyLine(lat: LatencyFigures): string {
  return `latency at ${fmt(lat.achievedRate)} events/s (asked ${
    fmt(LATENCY_RATE)
  }): p50 ${lat.p50_ms} ms, p95 ${lat.p95_ms} ms, p99 ${lat.p99_ms} ms (max ${lat.max_ms} ms, ${
    fmt(lat.count)
  } events), peak RSS ${lat.peakMiB.toFixed(0)} MiB`;
}

async function loadAverage(): Promise<string> {
  return (await run("cat", ["/proc/loadavg"]).catch(() => "?")).split(" ")[0] ?? "?";
}

/** --cluster-only: the latency step on this instance's cluster, figures written to --out. */
async function clusterOnly(stamp: string): Promise<void> {
  const load = await loadAverage();
  const topic = `bench_latency_cluster_${stamp}`;
  await freshDatabase(DB);
  await createTopic(topic);
  try {
    const lat = await latency(topic);
    console.log(`cluster (${KAFKA_NODES} nodes): ${latencyLine(lat)}`);
    const figures: ClusterFigures = { nodes: KAFKA_NODES, load, latency: lat };
    if (flags.out) await Deno.writeTextFile(flags.out, JSON.stringify(figures) + "\n");
  } finally {
    if (!flags.keep) {
      await deleteTopic(topic);
      await dropDatabase(DB);
    }
  }
}

/** The cluster figures of this run (--cluster-result), or why there are none. */
async function clusterFigures(): Promise<ClusterFigures | string> {
  if (!flags["cluster-result"]) return "not asked for (--cluster-result)";
  try {
    return JSON.parse(await Deno.readTextFile(flags["cluster-result"])) as ClusterFigures;
  } catch {
    return `the cluster step wrote no figures (${flags["cluster-result"]}; see its output above)`;
  }
}

async function main(): Promise<void> {
  const stamp = Date.now().toString(36);
  if (flags["cluster-only"]) return await clusterOnly(stamp);
  const load = await loadAverage();
  const bulkTopic = `bench_stream_${stamp}`;
  const latencyTopic = `bench_latency_${stamp}`;
  console.log(`database ${DB}, topics ${bulkTopic} / ${latencyTopic}, load average ${load}`);
  await freshDatabase(DB);
  await createTopic(bulkTopic);
  await createTopic(latencyTopic);
  const files: string[] = [];
  try {
    const prefill = await produce(bulkTopic, { count: EVENTS, rate: Infinity });
    console.log(`pre-filled ${fmt(prefill.sent)} events in ${(prefill.ms / 1000).toFixed(1)} s`);
    let payloadBytes = 0;
    const one: Array<{ consumer: RunFigures; copy: { rate: number; ms: number } }> = [];
    const two: typeof one = [];
    for (const [consumers, runs] of [[1, one], [2, two]] as const) {
      for (let index = 0; index < RUNS; index++) {
        const consumer = await throughput(bulkTopic, consumers, index);
        if (files.length === 0) {
          files.push(await exportRows(bulkTopic, "is not null"));
          files.push(await exportRows(bulkTopic, "< 3"), await exportRows(bulkTopic, ">= 3"));
          const [size] = await query<{ bytes: number }>(
            "select avg(pg_column_size(payload))::int as bytes from raw.order_events",
          );
          payloadBytes = size?.bytes ?? 0;
        }
        const copy = await copyCeiling(consumers === 1 ? files.slice(0, 1) : files.slice(1));
        runs.push({ consumer, copy });
        console.log(
          `${consumers} consumer(s) run ${index + 1}: ${fmt(consumer.rate)} events/s (peak RSS ${
            consumer.peakMiB.toFixed(0)
          } MiB, ${
            consumer.cpuUsPerEvent.toFixed(1)
          } µs CPU/event), psql \\copy over ${consumers} ` +
            `connection(s) ${fmt(copy.rate)} rows/s, ratio ${
              (consumer.rate / copy.rate).toFixed(2)
            }, load average ${await loadAverage()}`,
        );
      }
    }
    const ratio = (runs: typeof one) => median(runs.map((r) => r.consumer.rate / r.copy.rate));
    const peakMiB = Math.max(...one.map((r) => r.consumer.peakMiB));
    const cpuUs = median(one.map((r) => r.consumer.cpuUsPerEvent));
    console.log(
      `median: 1 consumer ${ratio(one).toFixed(2)} x copy (goal >= 0.85), ${
        cpuUs.toFixed(1)
      } µs CPU/event (goal <= 5); 2 consumers ${
        ratio(two).toFixed(2)
      } x copy over 2 connections (goal >= 0.55); peak RSS ${peakMiB.toFixed(0)} MiB (goal <= 256)`,
    );
    const lat = await latency(latencyTopic);
    console.log(`one node: ${latencyLine(lat)}`);
    const cluster = await clusterFigures();
    if (typeof cluster === "string") console.log(`cluster p99 not measured: ${cluster}`);
    const figures = {
      events: EVENTS,
      prefill,
      one,
      two,
      latency: lat,
      cluster,
      load,
      payloadBytes,
    };
    await Deno.mkdir(`${ROOT}.bench`, { recursive: true });
    await Deno.writeTextFile(
      `${ROOT}.bench/stream_bench.json`,
      JSON.stringify(figures, null, 2) + "\n",
    );
    if (!flags["no-write"]) {
      await writeSection(
        await section({
          ...figures,
          latencyRate: LATENCY_RATE,
          latencySeconds: LATENCY_SECONDS,
          concurrency: flags.concurrency ?? "6",
          maxBytes: flags["max-bytes"],
          database: DB,
        }),
      );
      console.log("Written to docs/performance.md");
    }
    console.log(summaryLine({
      oneRatio: ratio(one),
      twoRatio: ratio(two),
      peakMiB,
      latencyRate: LATENCY_RATE,
      p99Ms: lat.p99_ms,
      clusterP99Ms: typeof cluster === "string" ? undefined : cluster.latency.p99_ms,
    }));
  } finally {
    for (const file of files) await Deno.remove(file).catch(() => {});
    if (!flags.keep) {
      await deleteTopic(bulkTopic);
      await deleteTopic(latencyTopic);
      await dropDatabase(DB);
    }
  }
}

if (import.meta.main) {
  await main();
}
