/**
 * Benchmark of the streaming path (not a test), `deno task bench:stream`:
 *
 * 1. Pre-fills a fresh 6-partition topic with N valid events (default 1,000,000).
 * 2. Runs the real consumer on it (exactly-once path: one transaction per batch with the
 *    partition offsets, unique indexes on) and measures its sustained landing rate and peak RSS.
 * 3. In the same run, exports the very rows it landed, empties the table and times `psql \copy`
 *    of them into the same table (the ceiling: no Kafka, no validation, no offsets). Steps 2
 *    and 3 alternate --runs times; prints each run, the medians and the ratio (goal ≥ 0.5).
 * 4. Produces at 5,000 events/s for a while into another topic with the consumer caught up,
 *    and reports p50/p95/p99 of produce-to-committed-row latency (the consumer's commit time
 *    minus the Kafka timestamp the producer set) and the consumer's peak RSS.
 *
 * Writes the figures and the machine into the "Streaming" section of docs/performance.md
 * (skip with --no-write). Uses its own database (BENCH_STREAM_DB, default bench_stream, dropped
 * and re-created) and its own topics, so it can run beside anything else on the instance.
 *
 *   deno task bench:stream [--events 1000000] [--runs 3] [--latency-rate 5000]
 *                          [--latency-seconds 30] [--concurrency 6] [--max-bytes 2097152]
 *                          [--no-write] [--keep]
 */
import { parseArgs } from "node:util";
import {
  cpuTimeMs,
  createTopic,
  deleteTopic,
  dropDatabase,
  freshDatabase,
  kafka,
  peakRssMiB,
  produce,
  query as queryIn,
  run,
  startConsumer as startConsumerIn,
  stopConsumer,
  sustainedRate,
  waitLanded as waitLandedIn,
} from "./stream_support.ts";
import { median } from "./stats.ts";

const env = Deno.env.toObject();
const ROOT = new URL("../../", import.meta.url).pathname;
const DB = env.BENCH_STREAM_DB ?? "bench_stream";
const PSQL = env.PG_BIN ? `${env.PG_BIN}/psql` : "psql";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    events: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    "latency-rate": { type: "string", default: "5000" },
    "latency-seconds": { type: "string", default: "30" },
    concurrency: { type: "string" },
    "max-bytes": { type: "string" },
    "v8-flags": { type: "string" },
    "no-write": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
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
const waitLanded = (group: string, target: number, child: Deno.ChildProcess) =>
  waitLandedIn(DB, group, target, child);

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

/** One consumer run over the whole pre-filled topic, with a new group. */
async function throughput(topic: string, run: number) {
  await emptyTables();
  const group = `bench-${topic}-${run}`;
  const metrics = await Deno.makeTempFile({ suffix: ".json" });
  const child = startConsumer(topic, group, metrics);
  const samples = await waitLanded(group, EVENTS, child);
  const peak = await peakRssMiB(child.pid);
  const cpuMs = await cpuTimeMs(child.pid);
  await stopConsumer(child);
  await Deno.remove(metrics).catch(() => {});
  const rows = await countRows();
  if (rows !== EVENTS) throw new Error(`Landed ${rows} rows, expected ${EVENTS}`);
  return {
    ...sustainedRate(samples),
    peakMiB: peak,
    // CPU the consumer process used over its whole life (start-up included), per event.
    cpuUsPerEvent: (cpuMs * 1000) / EVENTS,
  };
}

/** Writes the rows the consumer landed to a file, for `psql \copy` to load. */
async function exportRows(topic: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".tsv" });
  const select = `select ${COLUMNS} from raw.order_events where topic = '${topic}'`;
  await run(PSQL, psqlArgs(`\\copy (${select}) to '${file}'`), SUPER_ENV);
  return file;
}

/** `psql \copy` of those rows into the emptied table, as the loader role. */
async function copyCeiling(file: string) {
  await emptyTables();
  const started = performance.now();
  await run(PSQL, psqlArgs(`\\copy raw.order_events (${COLUMNS}) from '${file}'`), {
    PGUSER: "loader",
    PGPASSWORD: env.LOADER_PASSWORD ?? "loader",
  });
  const ms = performance.now() - started;
  const rows = await countRows();
  if (rows !== EVENTS) throw new Error(`\\copy loaded ${rows} rows, expected ${EVENTS}`);
  return { rate: rows / (ms / 1000), ms };
}

async function latency(topic: string) {
  const group = `bench-${topic}`;
  const metrics = await Deno.makeTempFile({ suffix: ".json" });
  const child = startConsumer(topic, group, metrics);
  // Wait until the group has joined (its first, empty fetch round has stored nothing yet).
  const admin = kafka.admin();
  await admin.connect();
  for (let i = 0; i < 100; i++) {
    const { groups } = await admin.describeGroups([group]);
    if (groups[0]?.state === "Stable") break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await admin.disconnect();
  const sent = await produce(topic, { rate: LATENCY_RATE, seconds: LATENCY_SECONDS });
  await waitLanded(group, sent.sent, child);
  const peak = await peakRssMiB(child.pid);
  await stopConsumer(child);
  const summary = JSON.parse(await Deno.readTextFile(metrics)).latency;
  await Deno.remove(metrics);
  return { ...summary, sent: sent.sent, achievedRate: sent.sent / (sent.ms / 1000), peakMiB: peak };
}

async function machine(load: string): Promise<string> {
  const cpuinfo = await run("cat", ["/proc/cpuinfo"]).catch(() => "");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  const [version] = await query<{ v: string }>("select current_setting('server_version') as v");
  const memGiB = Deno.systemMemoryInfo().total / 1024 ** 3;
  return `${model}, ${navigator.hardwareConcurrency} logical CPUs; ${memGiB.toFixed(1)} GiB RAM; ` +
    `${Deno.build.os} ${Deno.osRelease()}; Deno ${Deno.version.deno}; PostgreSQL ${version?.v}; ` +
    `Kafka ${env.KAFKA_VERSION ?? "?"} (KRaft, one node); broker, database, consumer and ` +
    `producer on the same host; load average ${load} when the benchmark started`;
}

async function writeSection(section: string): Promise<void> {
  const path = `${ROOT}docs/performance.md`;
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch {
    text =
      "# Performance\n\nBenchmarks of the pipeline's parts (`make bench`); each section says how to reproduce it.\n";
  }
  const start = text.indexOf("## Streaming\n");
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + section + (next === -1 ? "" : text.slice(next + 1));
  }
  await Deno.writeTextFile(path, text);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const load = (await run("cat", ["/proc/loadavg"]).catch(() => "?")).split(" ")[0] ?? "?";
  const stamp = Date.now().toString(36);
  const bulkTopic = `bench_stream_${stamp}`;
  const latencyTopic = `bench_latency_${stamp}`;
  console.log(`database ${DB}, topics ${bulkTopic} / ${latencyTopic}`);
  await freshDatabase(DB);
  await createTopic(bulkTopic);
  await createTopic(latencyTopic);
  let file: string | undefined;
  try {
    const prefill = await produce(bulkTopic, { count: EVENTS, rate: Infinity });
    console.log(`pre-filled ${fmt(prefill.sent)} events in ${(prefill.ms / 1000).toFixed(1)} s`);
    // Consumer and \copy alternate on the same rows, RUNS times; medians are reported.
    const runs: Array<
      { consumer: Awaited<ReturnType<typeof throughput>>; copy: { rate: number; ms: number } }
    > = [];
    let payloadBytes = 0;
    for (let index = 0; index < RUNS; index++) {
      const consumer = await throughput(bulkTopic, index);
      if (file === undefined) {
        file = await exportRows(bulkTopic);
        const [size] = await query<{ bytes: number }>(
          "select avg(pg_column_size(payload))::int as bytes from raw.order_events",
        );
        payloadBytes = size?.bytes ?? 0;
      }
      const copy = await copyCeiling(file);
      runs.push({ consumer, copy });
      console.log(
        `run ${index + 1}: consumer ${fmt(consumer.rate)} events/s (peak RSS ${
          consumer.peakMiB.toFixed(0)
        } MiB, ${consumer.cpuUsPerEvent.toFixed(1)} µs CPU/event), psql \\copy ${
          fmt(copy.rate)
        } rows/s, ratio ${(consumer.rate / copy.rate).toFixed(2)}`,
      );
    }
    const consumerRate = median(runs.map((r) => r.consumer.rate));
    const copyRate = median(runs.map((r) => r.copy.rate));
    const ratio = median(runs.map((r) => r.consumer.rate / r.copy.rate));
    const peakMiB = Math.max(...runs.map((r) => r.consumer.peakMiB));
    console.log(
      `median: consumer ${fmt(consumerRate)} events/s, psql \\copy ${fmt(copyRate)} rows/s, ` +
        `ratio ${ratio.toFixed(2)} (goal >= 0.5); consumer peak RSS ${peakMiB.toFixed(0)} MiB`,
    );
    const lat = await latency(latencyTopic);
    console.log(
      `latency at ${fmt(lat.achievedRate)} events/s: p50 ${lat.p50_ms} ms, p95 ${lat.p95_ms} ms, ` +
        `p99 ${lat.p99_ms} ms (max ${lat.max_ms} ms, ${fmt(lat.count)} events), peak RSS ${
          lat.peakMiB.toFixed(0)
        } MiB`,
    );
    const result = {
      events: EVENTS,
      prefill,
      runs,
      median: { consumer: consumerRate, copy: copyRate, ratio },
      latency: lat,
      load,
      payload_bytes: payloadBytes,
    };
    await Deno.mkdir(`${ROOT}.bench`, { recursive: true });
    await Deno.writeTextFile(
      `${ROOT}.bench/stream_bench.json`,
      JSON.stringify(result, null, 2) + "\n",
    );
    if (!flags["no-write"]) {
      await writeSection(
        await section({
          prefill,
          runs,
          consumerRate,
          copyRate,
          ratio,
          peakMiB,
          lat,
          load,
          payloadBytes,
        }),
      );
      console.log("Written to docs/performance.md");
    }
  } finally {
    if (file) await Deno.remove(file).catch(() => {});
    if (!flags.keep) {
      await deleteTopic(bulkTopic);
      await deleteTopic(latencyTopic);
      await dropDatabase(DB);
    }
  }
}

interface Figures {
  prefill: { sent: number; ms: number };
  runs: Array<
    {
      consumer: { rate: number; ms: number; peakMiB: number; rows: number; cpuUsPerEvent: number };
      copy: { rate: number; ms: number };
    }
  >;
  consumerRate: number;
  copyRate: number;
  ratio: number;
  peakMiB: number;
  lat: {
    p50_ms: number;
    p95_ms: number;
    p99_ms: number;
    max_ms: number;
    count: number;
    achievedRate: number;
    peakMiB: number;
  };
  load: string;
  payloadBytes: number;
}

async function section(f: Figures): Promise<string> {
  const concurrency = flags.concurrency ?? "6";
  const maxBytes = flags["max-bytes"] ? `${Number(flags["max-bytes"]) / 1024} KiB` : "2 MiB";
  const rows = f.runs.map((r, i) =>
    `| ${i + 1} | ${fmt(r.consumer.rate)} | ${(r.consumer.ms / 1000).toFixed(1)} s | ${
      r.consumer.cpuUsPerEvent.toFixed(1)
    } µs | ${r.consumer.peakMiB.toFixed(0)} MiB | ${fmt(r.copy.rate)} | ${
      (r.copy.ms / 1000).toFixed(1)
    } s | ${(r.consumer.rate / r.copy.rate).toFixed(2)} |`
  );
  return [
    "## Streaming",
    "",
    `\`deno task bench:stream\` (tests/bench/stream_bench.ts), run ${
      new Date().toISOString().slice(0, 10)
    }. ` +
    `A fresh 6-partition topic is pre-filled with ${fmt(EVENTS)} valid order events ` +
    `(${f.payloadBytes} bytes of jsonb each on average). Then, ${f.runs.length} times on the same rows: ` +
    "the consumer (role `loader`, a new group, the exactly-once path of docs/decisions/0040 and 0042: " +
    "per batch one transaction with the offset lock, COPY into `raw.order_events` with both unique " +
    `indexes, the partition's next offset; ${concurrency} partitions landed at once, ${maxBytes} fetched per partition) ` +
    "lands them into the emptied table, and `psql \\copy` loads the very rows it landed into the emptied " +
    "table (the ceiling: no Kafka, no validation, no offsets). Rates are sustained rates, first to last " +
    "committed batch; peak RSS is the consumer's VmHWM; CPU per event is the consumer process's " +
    "user + system time over its whole life (start-up included) divided by the events.",
    "",
    "| run | consumer events/s | consumer time | consumer CPU per event | consumer peak RSS | " +
    "`psql \\copy` rows/s | `\\copy` time | ratio |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    `| **median** | **${fmt(f.consumerRate)}** | | | ${f.peakMiB.toFixed(0)} MiB (max) | **${
      fmt(f.copyRate)
    }** | | **${f.ratio.toFixed(2)}** (goal ≥ 0.5) |`,
    "",
    `Produce-to-committed-row latency, the consumer caught up and the simulator sending ${
      fmt(LATENCY_RATE)
    } ` +
    `events/s for ${LATENCY_SECONDS} s (achieved ${fmt(f.lat.achievedRate)}/s, ${
      fmt(f.lat.count)
    } events): the ` +
    "consumer's PostgreSQL commit time minus the Kafka timestamp the producer set, in 1 ms buckets.",
    "",
    "| p50 | p95 | p99 | max | consumer peak RSS |",
    "|---:|---:|---:|---:|---:|",
    `| ${f.lat.p50_ms} ms | ${f.lat.p95_ms} ms | ${f.lat.p99_ms} ms | ${f.lat.max_ms} ms | ${
      f.lat.peakMiB.toFixed(0)
    } MiB |`,
    "",
    `Pre-fill (the simulator's idempotent producer, acks=-1, 2,000 messages per request): ` +
    `${fmt(f.prefill.sent / (f.prefill.ms / 1000))} events/s.`,
    "",
    `Machine: ${await machine(
      f.load,
    )} (a shared machine: other work competes for the CPUs, so compare the ` +
    "columns of one run rather than runs of different days).",
    "",
  ].join("\n");
}

if (import.meta.main) {
  await main();
}
