/**
 * Does the stream side stay flat as raw.order_events grows? (issue #10 item 6; not a test)
 * `deno task bench:stream_history`, in the `bench` instance (make bench BENCH=stream_history).
 *
 * In a fresh database (BENCH_STREAM_HISTORY_DB, default bench_stream_history): one extract
 * from the instance's Fake Store server and one `dbt run` give fct_order_events its product
 * and user histories. Then, for each size L of --levels (default 1M and 10M rows):
 *
 * 1. raw.order_events is filled with SQL to L - merge-batch × merge-runs rows (valid v1 events, see
 *    order_events_fill.ts) and fct_order_events is rebuilt from them (untimed);
 * 2. (a) --merge-runs times (median): --merge-batch more events land after the fact's
 *    watermark (the last batch brings raw to L rows) and `dbt build --select fct_order_events`
 *    runs: the merge is the model's own time in run_results.json (its tests, which read the
 *    whole fact, are printed beside it);
 * 3. (b) --land-runs times, --land-batch events are produced to a new topic and the real
 *    consumer lands them with a new group (the sustained rate, as in stream_bench.ts); each
 *    run's rows are deleted afterwards, so every run lands into a table of L rows (median).
 * WAL bytes per event are printed beside both: random event_id keys spread inserts over the
 * whole primary-key index, so the larger the index, the more pages each batch dirties.
 *
 * Prints both figures per size, the ratios against the first size (goal: within 10 %), a JSON
 * line, and last `stream history: merge 10M/1M X.XX, landing 10M/1M Y.YY`.
 *
 *   deno task bench:stream_history [--levels 1000000,10000000] [--merge-batch 50000]
 *                                  [--land-batch 200000] [--land-runs 5]
 *                                  [--merge-runs 3] [--keep]
 */
import { parseArgs } from "node:util";
import { addDays, dbtRunner, expectSuccess, run as runCommand } from "../dbt/support.ts";
import { fillOrderEvents } from "./order_events_fill.ts";
import { median } from "./stats.ts";
import {
  createTopic,
  deleteTopic,
  dropDatabase,
  freshDatabase,
  pgClient,
  produce,
  query,
  run,
  startConsumer,
  stopConsumer,
  sustainedRate,
  waitLanded,
} from "./stream_support.ts";

const env = Deno.env.toObject();
const DB = env.BENCH_STREAM_HISTORY_DB ?? "bench_stream_history";
// The one snapshot day the product and user histories come from, before every filled event.
const SNAPSHOT_DAY = "2024-12-31";
// dbt and the extractor (child processes) work on the benchmark's database.
Deno.env.set("PGDATABASE", DB);
Deno.env.set("WAREHOUSE_DB", DB);

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    levels: { type: "string", default: "1000000,10000000" },
    "merge-batch": { type: "string", default: "50000" },
    "land-batch": { type: "string", default: "200000" },
    "land-runs": { type: "string", default: "5" },
    "merge-runs": { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
  },
});
const LEVELS = flags.levels.split(",").map((level) => Number(level.trim()));
const MERGE_BATCH = Number(flags["merge-batch"]);
const LAND_BATCH = Number(flags["land-batch"]);
const LAND_RUNS = Number(flags["land-runs"]);
const MERGE_RUNS = Number(flags["merge-runs"]);
// The merge runs' batches land one after the other, the last one bringing raw to the level.
const MERGED = MERGE_BATCH * MERGE_RUNS;
for (
  const [name, value] of [
    ["merge-batch", MERGE_BATCH],
    ["merge-runs", MERGE_RUNS],
    ["land-runs", LAND_RUNS],
  ] as const
) {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Bad --${name} ${value}`);
}
if (
  LEVELS.some((level, i) => !Number.isInteger(level) || level - MERGED <= (LEVELS[i - 1] ?? 0))
) {
  throw new RangeError(
    `Bad --levels ${flags.levels}: ascending sizes, each more than --merge-batch × --merge-runs above the previous`,
  );
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const log = (message: string) => console.error(`[bench:stream_history] ${message}`);

/** dbt as the transformer role on the benchmark's database; returns run_results' nodes. */
async function dbt(args: string[], workDir: string) {
  const started = performance.now();
  const finished = await dbtRunner(workDir)(args);
  const seconds = (performance.now() - started) / 1000;
  expectSuccess(`dbt ${args.join(" ")}`, finished);
  const { results } = JSON.parse(
    await Deno.readTextFile(`${workDir}/target/run_results.json`),
  ) as { results: Array<{ unique_id: string; execution_time: number }> };
  return { seconds, results };
}

async function superQuery(sql: string, params: unknown[] = []): Promise<void> {
  const client = pgClient(DB);
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

async function fill(from: number, to: number): Promise<number> {
  const client = pgClient(DB);
  await client.connect();
  try {
    const ms = await fillOrderEvents(client, from, to);
    // Set hint bits and statistics now, so no later timed step pays for them.
    await client.query("vacuum (analyze) raw.order_events");
    return ms;
  } finally {
    await client.end();
  }
}

/** The merge batch lands as new rows do: inserted after the rebuild, not vacuumed. */
async function landMergeBatch(from: number, to: number): Promise<void> {
  const client = pgClient(DB);
  await client.connect();
  try {
    await fillOrderEvents(client, from, to);
  } finally {
    await client.end();
  }
}

async function rowCount(): Promise<number> {
  const [row] = await query<{ n: string }>(DB, "select count(*) as n from raw.order_events");
  return Number(row?.n ?? 0);
}

/** The server's current WAL position. */
async function walLsn(): Promise<string> {
  const [row] = await query<{ lsn: string }>(DB, "select pg_current_wal_lsn()::text as lsn");
  return row!.lsn;
}

/** WAL bytes written since `lsn`, by the whole server (the benchmark runs alone on it). */
async function walBytesSince(lsn: string): Promise<number> {
  const [row] = await query<{ bytes: string }>(
    DB,
    "select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint as bytes",
    [lsn],
  );
  return Number(row!.bytes);
}

/** (a): `dbt build --select fct_order_events` after MERGE_BATCH events landed past the watermark. */
async function mergeBatch(workDir: string) {
  const lsn = await walLsn();
  const { seconds, results } = await dbt(["build", "--select", "fct_order_events"], workDir);
  const walBytes = await walBytesSince(lsn);
  const model = results.find((r) =>
    r.unique_id.startsWith("model.") &&
    r.unique_id.endsWith(".fct_order_events")
  );
  if (!model) throw new Error("Time the merge: fct_order_events is missing from run_results.json");
  const tests = results.filter((r) => r.unique_id.startsWith("test."))
    .reduce((total, r) => total + r.execution_time, 0);
  return {
    mergeSeconds: model.execution_time,
    wallSeconds: seconds,
    testSeconds: tests,
    walBytesPerEvent: walBytes / MERGE_BATCH,
  };
}

/** (b): one consumer landing of LAND_BATCH events from a new topic; its rows are removed after. */
async function landing(level: number, index: number) {
  const topic = `bench_history_${level}_${index}_${Date.now().toString(36)}`;
  await createTopic(topic);
  try {
    const produced = await produce(topic, { count: LAND_BATCH, rate: Infinity });
    const group = `bench-${topic}`;
    const metrics = await Deno.makeTempFile({ suffix: ".json" });
    const lsn = await walLsn();
    const child = startConsumer(DB, topic, group, metrics);
    const samples = await waitLanded(DB, group, produced.sent, child);
    const walBytes = await walBytesSince(lsn);
    await stopConsumer(child);
    await Deno.remove(metrics).catch(() => {});
    await superQuery("delete from raw.order_events where topic = $1", [topic]);
    return { ...sustainedRate(samples), walBytesPerEvent: walBytes / produced.sent };
  } finally {
    await deleteTopic(topic);
  }
}

interface Level {
  rows: number;
  filledRows: number;
  fillSeconds: number;
  rebuildSeconds: number;
  merge: {
    mergeSeconds: number;
    mergeRuns: number[];
    wallSeconds: number;
    testSeconds: number;
    walBytesPerEvent: number;
  };
  landingRates: number[];
  landingRate: number;
  landingWalBytesPerEvent: number;
}

async function main(): Promise<void> {
  // Deno reads /proc only with -A; `cat` is a plain subprocess.
  const load = (await run("cat", ["/proc/loadavg"])).split(" ").slice(0, 3).join(" ");
  const workDir = await Deno.makeTempDir({ prefix: "stream-history-" });
  log(`database ${DB}, levels ${LEVELS.map(fmt).join(" / ")}, load average ${load}`);
  await freshDatabase(DB);
  const levels: Level[] = [];
  try {
    expectSuccess(
      "extract",
      await runCommand(Deno.execPath(), [
        "run",
        "--allow-net",
        "--allow-env",
        "workers/extract/main.ts",
        "--start",
        SNAPSHOT_DAY,
        "--end",
        addDays(SNAPSHOT_DAY, 1),
      ], {
        env: {
          PGUSER: "loader",
          PGPASSWORD: env.LOADER_PASSWORD ?? "loader",
          LOG_LEVEL: "warn",
        },
      }),
    );
    await dbt(["run"], workDir);
    let filled = 0;
    for (const level of LEVELS) {
      const fillMs = await fill(filled, level - MERGED);
      log(`${fmt(level - MERGED - filled)} rows filled in ${(fillMs / 1000).toFixed(1)} s`);
      const rebuild = await dbt(["run", "--select", "fct_order_events", "--full-refresh"], workDir);
      log(
        `fct_order_events rebuilt from ${fmt(level - MERGED)} rows in ${
          rebuild.seconds.toFixed(1)
        } s`,
      );
      const merges: Awaited<ReturnType<typeof mergeBatch>>[] = [];
      for (let run = MERGE_RUNS - 1; run >= 0; run--) {
        await landMergeBatch(level - (run + 1) * MERGE_BATCH, level - run * MERGE_BATCH);
        merges.push(await mergeBatch(workDir));
        log(
          `merge of ${fmt(MERGE_BATCH)} events at ${fmt(level - run * MERGE_BATCH)} rows: ${
            merges.at(-1)!.mergeSeconds.toFixed(2)
          } s`,
        );
      }
      const rows = await rowCount();
      if (rows !== level) throw new Error(`Fill raw.order_events to ${level} rows: holds ${rows}`);
      const merge = {
        mergeSeconds: median(merges.map((m) => m.mergeSeconds)),
        mergeRuns: merges.map((m) => m.mergeSeconds),
        wallSeconds: median(merges.map((m) => m.wallSeconds)),
        testSeconds: median(merges.map((m) => m.testSeconds)),
        walBytesPerEvent: median(merges.map((m) => m.walBytesPerEvent)),
      };
      const landings: Array<{ rate: number; walBytesPerEvent: number }> = [];
      for (let index = 0; index < LAND_RUNS; index++) {
        landings.push(await landing(level, index));
        const landingRates = landings.map((l) => l.rate);
        log(
          `landing at ${fmt(level)} rows, run ${index + 1}: ${fmt(landingRates.at(-1)!)} events/s`,
        );
      }
      levels.push({
        rows: level,
        filledRows: level - MERGED - filled,
        fillSeconds: fillMs / 1000,
        rebuildSeconds: rebuild.seconds,
        merge,
        landingRates: landings.map((l) => l.rate),
        landingRate: median(landings.map((l) => l.rate)),
        landingWalBytesPerEvent: median(landings.map((l) => l.walBytesPerEvent)),
      });
      filled = level;
    }
  } finally {
    if (!flags.keep) await dropDatabase(DB);
    await Deno.remove(workDir, { recursive: true });
  }
  report(levels, load);
}

function report(levels: Level[], load: string): void {
  const base = levels[0]!;
  const last = levels.at(-1)!;
  for (const level of levels) {
    console.log(
      `raw.order_events at ${fmt(level.rows)} rows: merge of ${fmt(MERGE_BATCH)} new events ${
        level.merge.mergeSeconds.toFixed(2)
      } s (model, median of ${
        level.merge.mergeRuns.map((v) => v.toFixed(2)).join(" / ")
      }; dbt build wall ${level.merge.wallSeconds.toFixed(1)} s, its tests ${
        level.merge.testSeconds.toFixed(1)
      } s summed; ${fmt(level.merge.walBytesPerEvent)} WAL bytes/event); consumer landing ${
        fmt(level.landingRate)
      } events/s (median of ${level.landingRates.map(fmt).join(" / ")}, ${
        fmt(LAND_BATCH)
      } events each; ${fmt(level.landingWalBytesPerEvent)} WAL bytes/event); fill ${
        fmt(level.filledRows)
      } rows ${level.fillSeconds.toFixed(0)} s, rebuild ${level.rebuildSeconds.toFixed(0)} s`,
    );
  }
  const mergeRatio = last.merge.mergeSeconds / base.merge.mergeSeconds;
  const landingRatio = last.landingRate / base.landingRate;
  console.log(
    `goal (within 10 % of ${fmt(base.rows)} rows): merge time ${mergeRatio.toFixed(2)}x <= 1.10 ${
      mergeRatio <= 1.1 ? "met" : "missed"
    }, landing rate ${landingRatio.toFixed(2)}x >= 0.90 ${
      landingRatio >= 0.9 ? "met" : "missed"
    }; load average ${load} at start`,
  );
  console.log(JSON.stringify({
    bench: "stream_history",
    merge_batch: MERGE_BATCH,
    land_batch: LAND_BATCH,
    levels,
    merge_ratio: Number(mergeRatio.toFixed(3)),
    landing_ratio: Number(landingRatio.toFixed(3)),
    load,
  }));
  const label = (rows: number) => rows % 1_000_000 === 0 ? `${rows / 1_000_000}M` : fmt(rows);
  console.log(
    `stream history: merge ${label(last.rows)}/${label(base.rows)} ${mergeRatio.toFixed(2)}, ` +
      `landing ${label(last.rows)}/${label(base.rows)} ${landingRatio.toFixed(2)}`,
  );
}

if (import.meta.main) {
  await main();
}
