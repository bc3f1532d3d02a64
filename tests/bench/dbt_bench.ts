/**
 * dbt history benchmark (`make bench BENCH=dbt`, not a test): does the daily run cost what one
 * day costs as history piles up? At scale 1000 from the project's own Fake Store server, in one
 * fresh database, for each history length N of DBT_BENCH_DAYS (default 30, 100, 365):
 *
 * 1. extract the days up to N (DBT_BENCH_PARALLEL extracts at a time);
 * 2. time a full build, `dbt build --full-refresh` of the whole project;
 * 3. three consecutive daily runs, each = extract the next day, then exactly the batch DAG's
 *    dbt step (`dbt build --selector batch` with the interval vars, the script
 *    dags/webshop/commands.py builds); the daily figure is their median;
 * 4. print full and daily wall time, their ratio, rows and MB per raw table (found in the
 *    catalog, partitions summed), raw MB per day and the warehouse database's size;
 *
 * then goes on extracting to the next N. Ends with the slowest nodes of the daily build at the
 * longest N, a JSON line with every figure, the goals, and the line
 * `history: daily/full X.XX at N days, daily(N days)/daily(30 days) Y.YY, raw MB/day Z.ZZ`.
 * Figures: docs/performance.md ("dbt").
 *
 *   deno task bench:dbt         (inside `python3 -m stack.stackctl exec`, or make bench)
 *
 * Environment: PGHOST, PGPORT, POSTGRES_USER/POSTGRES_PASSWORD (to create the database),
 * LOADER_PASSWORD, TRANSFORMER_PASSWORD, DBT_BIN; DBT_BENCH_SCALE (1000), DBT_BENCH_DAYS
 * ("30,100,365"; "100" for a quick run), DBT_BENCH_FIRST_DAY (2024-01-01), DBT_BENCH_DB
 * (bench_dbt), DBT_BENCH_PARALLEL (3 extracts at a time), DBT_BENCH_KEEP=1 keeps the database.
 */
import { addDays, dbtRunner, expectSuccess, extract, run } from "../dbt/support.ts";
import { airflowTs, batchDbtTemplate, renderDagCommand } from "./batch_command.ts";
import {
  goalsLine,
  historyLine,
  type HistoryPoint,
  parseDays,
  rawMbPerDay,
  summarize,
} from "./history_report.ts";
import { databaseBytes, type RawTable, rawTables } from "./raw_sizes.ts";
import { median } from "./stats.ts";
// @ts-types="@types/pg"
import pg from "pg";

const ROOT = new URL("../../", import.meta.url).pathname;
const setting = (name: string, fallback: string) => Deno.env.get(name) || fallback;

const scale = Number(setting("DBT_BENCH_SCALE", "1000"));
const historyDays = parseDays(setting("DBT_BENCH_DAYS", "30,100,365"));
const firstDay = setting("DBT_BENCH_FIRST_DAY", "2024-01-01");
const database = setting("DBT_BENCH_DB", "bench_dbt");
const parallel = Number(setting("DBT_BENCH_PARALLEL", "3"));
const keep = setting("DBT_BENCH_KEEP", "0") === "1";
if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new RangeError(`Bad DBT_BENCH_DB ${database}`);
const DAILY_RUNS = 3;
const MB = 1024 * 1024;

// Every child process (extractor, migrations, dbt) works on the benchmark's database.
Deno.env.set("PGDATABASE", database);
Deno.env.set("WAREHOUSE_DB", database);

function log(message: string): void {
  console.error(`[bench:dbt] ${message}`);
}

function superClient(db: string): pg.Client {
  return new pg.Client({
    host: setting("PGHOST", "127.0.0.1"),
    port: Number(setting("PGPORT", "5432")),
    user: setting("POSTGRES_USER", "postgres"),
    password: setting("POSTGRES_PASSWORD", "postgres"),
    database: db,
  });
}

async function withSuper<T>(db: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = superClient(db);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function startFakestore(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "workers/fakestore/main.ts"],
    cwd: ROOT,
    env: { FAKESTORE_PORT: String(port), FAKESTORE_SCALE: String(scale), LOG_LEVEL: "warn" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`${url}/products/1`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** The real extractor for one day against our Fake Store server, as the loader role. */
async function extractDay(day: string, baseUrl: string): Promise<void> {
  Deno.env.set("FAKESTORE_BASE_URL", baseUrl);
  await extract(day, addDays(day, 1));
}

/** Extracts `days` (YYYY-MM-DD), `parallel` at a time; returns the wall seconds. */
async function extractDays(days: string[], baseUrl: string): Promise<number> {
  const started = performance.now();
  const pending = [...days];
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let day = pending.shift(); day !== undefined; day = pending.shift()) {
      await extractDay(day, baseUrl);
    }
  }));
  return (performance.now() - started) / 1000;
}

interface Timed {
  seconds: number;
  models: number;
  tests: number;
  nodes: number;
  slowest: string[];
}

/** Wall time of a finished dbt command plus where the time went, from its run_results.json. */
async function timed(label: string, targetDir: string, started: number, finished: {
  code: number;
  output: string;
}): Promise<Timed> {
  const seconds = (performance.now() - started) / 1000;
  expectSuccess(`dbt build (${label})`, finished);
  const { results } = JSON.parse(
    await Deno.readTextFile(`${targetDir}/run_results.json`),
  ) as { results: Array<{ unique_id: string; execution_time: number }> };
  const sum = (prefix: string) =>
    results.filter((r) => r.unique_id.startsWith(prefix))
      .reduce((total, r) => total + r.execution_time, 0);
  const slowest = [...results].sort((a, b) => b.execution_time - a.execution_time).slice(0, 5)
    .map((r) => `${r.unique_id.split(".").at(-1)} ${r.execution_time.toFixed(1)}s`);
  return {
    seconds,
    models: sum("model."),
    tests: sum("test.") + sum("unit_test."),
    nodes: results.length,
    slowest,
  };
}

/** `dbt build --full-refresh`, the whole project, no interval vars (a full run). */
async function fullBuild(workDir: string): Promise<Timed> {
  const dir = `${workDir}/full`;
  const started = performance.now();
  const finished = await dbtRunner(dir)(["build", "--full-refresh"]);
  return await timed("full", `${dir}/target`, started, finished);
}

/** The batch DAG's dbt step for the day `day`, run as the DAG's task runs it (bash). */
async function dailyBuild(template: string, workDir: string, day: string): Promise<Timed> {
  const runDir = `${workDir}/daily-${day}`;
  const script = renderDagCommand(template, {
    runDir,
    intervalStart: airflowTs(day),
    intervalEnd: airflowTs(addDays(day, 1)),
  });
  const started = performance.now();
  const finished = await run("bash", ["-c", script], {
    env: { PROJECT_DIR: ROOT, DBT_PROFILES_DIR: ROOT },
  });
  return await timed(`daily ${day}`, `${runDir}/target`, started, finished);
}

interface Measured extends HistoryPoint {
  extractSeconds: number;
  full: Timed;
  daily: Timed[];
  raw: RawTable[];
  warehouseBytes: number;
}

const mb = (bytes: number) => (bytes / MB).toFixed(1);

function printPoint(point: Measured): void {
  const daily = median(point.dailySeconds);
  const medianRun = point.daily.find((d) => d.seconds === daily) ?? point.daily[0]!;
  const rawRows = point.raw.reduce((total, table) => total + table.rows, 0);
  console.log(`history ${point.days} days (scale ${scale}):`);
  console.log(
    `  full build   ${point.full.seconds.toFixed(1)} s  (${point.full.nodes} nodes; models ${
      point.full.models.toFixed(1)
    } s, tests ${point.full.tests.toFixed(1)} s, summed over 2 threads)`,
  );
  console.log(
    `  daily build  ${daily.toFixed(1)} s  median of ${
      point.dailySeconds.map((s) => s.toFixed(1)).join(" / ")
    } s  (median run: ${medianRun.nodes} nodes; models ${medianRun.models.toFixed(1)} s, tests ${
      medianRun.tests.toFixed(1)
    } s)`,
  );
  console.log(
    `  daily/full   ${(daily / point.fullSeconds).toFixed(2)}  (goal <= 0.10 at 365 days)`,
  );
  for (const table of point.raw) {
    const parts = table.partitions > 0 ? `, ${table.partitions} partitions` : "";
    console.log(
      `  ${table.name.padEnd(40)} ${table.rows.toLocaleString("en-US").padStart(12)} rows ${
        mb(table.bytes).padStart(9)
      } MB${parts}`,
    );
  }
  console.log(
    `  raw total ${rawRows.toLocaleString("en-US")} rows, ${mb(point.rawBytes)} MB, ${
      rawMbPerDay(point).toFixed(2)
    } MB/day (goal <= 5.5); warehouse database ${mb(point.warehouseBytes)} MB`,
  );
  console.log(`  slowest nodes of the median daily build: ${medianRun.slowest.join(", ")}`);
}

async function main(): Promise<void> {
  const workDir = await Deno.makeTempDir({ prefix: "dbt-bench-" });
  log(`scale ${scale}, history ${historyDays.join(", ")} days from ${firstDay}, db ${database}`);
  const template = await batchDbtTemplate();
  await withSuper("postgres", (c) => c.query(`drop database if exists "${database}" with (force)`));
  expectSuccess(
    "migrate",
    await run(Deno.execPath(), [
      "run",
      "--allow-env",
      "--allow-net",
      "--allow-read",
      "--allow-sys",
      "db/migrate.ts",
    ]),
  );
  const fakestore = await startFakestore();
  const points: Measured[] = [];
  try {
    let extracted = 0;
    for (const days of historyDays) {
      const todo = Array.from(
        { length: Math.max(0, days - extracted) },
        (_, i) => addDays(firstDay, extracted + i),
      );
      const extractSeconds = await extractDays(todo, fakestore.url);
      // The history the full build sees: N days, or more when the previous length's daily
      // runs already went past N (close lengths such as 3,5 in a smoke run).
      extracted = Math.max(extracted, days);
      const history = extracted;
      log(`${history} days: extracted ${todo.length} more days in ${extractSeconds.toFixed(0)} s`);

      const full = await fullBuild(workDir);
      log(`${history} days: full build ${full.seconds.toFixed(1)} s`);
      const { raw, warehouseBytes } = await withSuper(database, async (client) => ({
        raw: await rawTables(client),
        warehouseBytes: await databaseBytes(client),
      }));

      const daily: Timed[] = [];
      for (let run = 0; run < DAILY_RUNS; run++) {
        const day = addDays(firstDay, extracted);
        await extractDay(day, fakestore.url);
        extracted += 1;
        daily.push(await dailyBuild(template, workDir, day));
        log(`${history} days: daily build of ${day} ${daily.at(-1)!.seconds.toFixed(1)} s`);
      }
      const point: Measured = {
        days: history,
        fullSeconds: full.seconds,
        dailySeconds: daily.map((d) => d.seconds),
        rawBytes: raw.reduce((total, table) => total + table.bytes, 0),
        extractSeconds,
        full,
        daily,
        raw,
        warehouseBytes,
      };
      points.push(point);
      printPoint(point);
    }

    const s = summarize(points);
    console.log(
      `raw growth between history lengths: ${
        points.slice(1).map((point, i) =>
          `${points[i]!.days}->${point.days} days ${
            ((point.rawBytes - points[i]!.rawBytes) / MB / (point.days - points[i]!.days))
              .toFixed(2)
          } MB/day`
        ).join(", ") || "(one history length only)"
      }`,
    );
    console.log(JSON.stringify({
      bench: "dbt_history",
      scale,
      first_day: firstDay,
      points: points.map((p) => ({
        days: p.days,
        extract_s: Number(p.extractSeconds.toFixed(1)),
        full_build_s: Number(p.fullSeconds.toFixed(2)),
        daily_build_s: p.dailySeconds.map((v) => Number(v.toFixed(2))),
        daily_median_s: Number(median(p.dailySeconds).toFixed(2)),
        daily_over_full: Number((median(p.dailySeconds) / p.fullSeconds).toFixed(3)),
        raw: p.raw.map((t) => ({ ...t, mb: Number((t.bytes / MB).toFixed(2)) })),
        raw_mb: Number((p.rawBytes / MB).toFixed(2)),
        raw_mb_per_day: Number(rawMbPerDay(p).toFixed(3)),
        warehouse_mb: Number((p.warehouseBytes / MB).toFixed(1)),
      })),
      daily_over_full: Number(s.dailyOverFull.toFixed(3)),
      daily_growth: Number(s.dailyGrowth.toFixed(3)),
      daily_growth_baseline_days: s.baseline.days,
      raw_mb_per_day: Number(s.rawMbPerDay.toFixed(3)),
    }));
    console.log(goalsLine(points));
    console.log(historyLine(points));
  } finally {
    await fakestore.stop();
    if (!keep) {
      await withSuper(
        "postgres",
        (c) => c.query(`drop database if exists "${database}" with (force)`),
      );
    }
    await Deno.remove(workDir, { recursive: true });
  }
}

if (import.meta.main) {
  await main();
}
