/**
 * dbt benchmark (`make bench`, not a test): at scale 1000 from the project's own Fake Store
 * server, extract DBT_BENCH_DAYS simulated days (default 100) into a fresh database, time a full
 * `dbt build`, then extract one more day (+1 % of the history) and time the incremental
 * `dbt build` that a daily run does. Prints both wall times and their ratio, plus where the
 * time went (models vs tests, slowest nodes). Figures: docs/performance.md ("dbt").
 *
 *   deno task bench:dbt         (inside `python3 -m stack.stackctl exec`, or make bench)
 *
 * Environment: PGHOST, PGPORT, POSTGRES_USER/POSTGRES_PASSWORD (to create the database),
 * LOADER_PASSWORD, TRANSFORMER_PASSWORD, DBT_BIN; DBT_BENCH_SCALE (1000), DBT_BENCH_DAYS (100),
 * DBT_BENCH_FIRST_DAY (2024-01-01), DBT_BENCH_DB (bench_dbt), DBT_BENCH_PARALLEL (3 extracts at
 * a time), DBT_BENCH_KEEP=1 keeps the database afterwards.
 */
import { addDays, expectSuccess, run } from "../dbt/support.ts";
// @ts-types="@types/pg"
import pg from "pg";

const ROOT = new URL("../../", import.meta.url).pathname;
const setting = (name: string, fallback: string) => Deno.env.get(name) || fallback;

const scale = Number(setting("DBT_BENCH_SCALE", "1000"));
const days = Number(setting("DBT_BENCH_DAYS", "100"));
const firstDay = setting("DBT_BENCH_FIRST_DAY", "2024-01-01");
const database = setting("DBT_BENCH_DB", "bench_dbt");
const parallel = Number(setting("DBT_BENCH_PARALLEL", "3"));
const keep = setting("DBT_BENCH_KEEP", "0") === "1";
if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new RangeError(`Bad DBT_BENCH_DB ${database}`);

const dbEnv = { PGDATABASE: database, WAREHOUSE_DB: database };

function log(message: string): void {
  console.error(`[bench:dbt] ${message}`);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({
    host: setting("PGHOST", "127.0.0.1"),
    port: Number(setting("PGPORT", "5432")),
    user: setting("POSTGRES_USER", "postgres"),
    password: setting("POSTGRES_PASSWORD", "postgres"),
    database: "postgres",
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
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

async function extractDay(day: string, baseUrl: string): Promise<void> {
  const finished = await run(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "workers/extract/main.ts",
    "--start",
    day,
    "--end",
    addDays(day, 1),
  ], {
    env: {
      ...dbEnv,
      FAKESTORE_BASE_URL: baseUrl,
      PGUSER: "loader",
      PGPASSWORD: setting("LOADER_PASSWORD", "loader"),
      LOG_LEVEL: "warn",
    },
  });
  expectSuccess(`extract ${day}`, finished);
}

interface Timed {
  seconds: number;
  models: number;
  tests: number;
  slowest: string[];
}

async function dbtBuild(label: string, workDir: string): Promise<Timed> {
  const started = performance.now();
  const finished = await run(setting("DBT_BIN", "dbt"), [
    "build",
    "--project-dir",
    ROOT,
    "--profiles-dir",
    ROOT,
    "--target-path",
    `${workDir}/target`,
    "--log-path",
    `${workDir}/logs`,
  ], { env: { ...dbEnv, DBT_PROFILES_DIR: ROOT } });
  const seconds = (performance.now() - started) / 1000;
  expectSuccess(`dbt build (${label})`, finished);
  const { results } = JSON.parse(
    await Deno.readTextFile(`${workDir}/target/run_results.json`),
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
    slowest,
  };
}

async function main(): Promise<void> {
  const workDir = await Deno.makeTempDir({ prefix: "dbt-bench-" });
  log(`scale ${scale}, ${days} days from ${firstDay}, database ${database}`);
  await admin(`drop database if exists "${database}" with (force)`);
  expectSuccess(
    "migrate",
    await run(Deno.execPath(), [
      "run",
      "--allow-env",
      "--allow-net",
      "--allow-read",
      "--allow-sys",
      "db/migrate.ts",
    ], { env: dbEnv }),
  );
  const fakestore = await startFakestore();
  try {
    const extractStarted = performance.now();
    const pending = Array.from({ length: days }, (_, i) => addDays(firstDay, i));
    await Promise.all(Array.from({ length: parallel }, async () => {
      for (let day = pending.shift(); day !== undefined; day = pending.shift()) {
        await extractDay(day, fakestore.url);
      }
    }));
    log(`extracted ${days} days in ${((performance.now() - extractStarted) / 1000).toFixed(0)}s`);

    const full = await dbtBuild("full", workDir);
    log(`full build ${full.seconds.toFixed(1)}s`);
    await extractDay(addDays(firstDay, days), fakestore.url);
    const incremental = await dbtBuild("incremental", workDir);
    log(`incremental build ${incremental.seconds.toFixed(1)}s`);

    const ratio = incremental.seconds / full.seconds;
    console.log(
      `dbt benchmark: scale ${scale}, ${days} days, then +1 day (${(100 / days).toFixed(1)} %)`,
    );
    console.log(
      `  full build        ${full.seconds.toFixed(1)} s  (models ${
        full.models.toFixed(1)
      } s, tests ${full.tests.toFixed(1)} s, summed over 2 threads)`,
    );
    console.log(
      `  incremental build ${incremental.seconds.toFixed(1)} s  (models ${
        incremental.models.toFixed(1)
      } s, tests ${incremental.tests.toFixed(1)} s)`,
    );
    console.log(`  ratio incremental / full = ${ratio.toFixed(2)}`);
    console.log(`  slowest (full):        ${full.slowest.join(", ")}`);
    console.log(`  slowest (incremental): ${incremental.slowest.join(", ")}`);
    console.log(JSON.stringify({
      bench: "dbt",
      scale,
      days,
      full_build_s: Number(full.seconds.toFixed(2)),
      incremental_build_s: Number(incremental.seconds.toFixed(2)),
      ratio: Number(ratio.toFixed(3)),
    }));
  } finally {
    await fakestore.stop();
    if (!keep) await admin(`drop database if exists "${database}" with (force)`);
    await Deno.remove(workDir, { recursive: true });
  }
}

if (import.meta.main) {
  await main();
}
