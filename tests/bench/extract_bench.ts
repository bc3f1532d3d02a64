/**
 * Benchmark of the batch extractor (not a test): for each server scale, the extractor's rows/s,
 * wall time and peak memory when it lands one day, beside `psql \copy` of the very same rows
 * into identical tables in the same run (the ceiling: no HTTP, no validation, no hashing).
 * Writes the figures and the machine into the "Extract" section of docs/performance.md.
 *
 *   deno task bench:extract                      # scales 1, 100, 1000, 5000; 3 runs each
 *   deno task bench:extract --scales 1,100 --runs 1 --no-write
 *
 * Needs the stack's PostgreSQL (superuser for set-up), /usr/bin/time for peak memory, psql.
 * Uses its own database (BENCH_DB, default bench_extract) and its own server processes.
 */
import { parseArgs } from "node:util";
// @ts-types="@types/pg"
import pg from "pg";
import { cpuDescription } from "./machine.ts";

const env = Deno.env.toObject();
const ROOT = new URL("../../", import.meta.url).pathname;
const BENCH_DB = env.BENCH_DB ?? "bench_extract";
const PG = {
  host: env.PGHOST ?? "127.0.0.1",
  port: env.PGPORT ?? "5432",
  superuser: env.POSTGRES_USER ?? "postgres",
  superPassword: env.POSTGRES_PASSWORD ?? "postgres",
  loaderPassword: env.LOADER_PASSWORD ?? "loader",
};
const ENTITIES = ["products", "users", "carts"] as const;
const FIRST_DAY = Date.UTC(2026, 10, 1);

interface Measure {
  wallMs: number;
  peakKiB: number | undefined;
  rows: number;
}

interface ScaleResult {
  scale: number;
  rows: number;
  extractor: Measure[];
  inProcessMs: number[];
  fetchMs: number[];
  phases: Array<{ fetch: number; validate: number; land: number }>;
  copy: Measure[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const HAS_TIME = await exists("/usr/bin/time");
let startLoad: string | undefined;

/** The 1-minute load average, from `cat /proc/loadavg` (Deno reads /proc only with -A). */
async function loadAverage(): Promise<string | undefined> {
  const out = await new Deno.Command("cat", { args: ["/proc/loadavg"], stdout: "piped" })
    .output().catch(() => undefined);
  return out ? new TextDecoder().decode(out.stdout).split(" ")[0] : undefined;
}

/** Runs a command under /usr/bin/time (when present): wall time, peak RSS, its output. */
async function measured(
  command: string,
  args: string[],
  options: { env: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string; wallMs: number; peakKiB?: number }> {
  const timeFile = await Deno.makeTempFile({ prefix: "bench_time_" });
  const [program, programArgs] = HAS_TIME
    ? ["/usr/bin/time", ["-f", "%M", "-o", timeFile, command, ...args]]
    : [command, args];
  const started = performance.now();
  const output = await new Deno.Command(program, {
    args: programArgs,
    cwd: ROOT,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallMs = performance.now() - started;
  const timeText = HAS_TIME ? (await Deno.readTextFile(timeFile)).trim().split("\n").at(-1) : "";
  await Deno.remove(timeFile);
  const peak = Number(timeText);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
    wallMs,
    ...(Number.isFinite(peak) && peak > 0 ? { peakKiB: peak } : {}),
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function startFakestore(scale: number): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "workers/fakestore/main.ts"],
    cwd: ROOT,
    env: { FAKESTORE_PORT: String(port), FAKESTORE_SCALE: String(scale), FAKESTORE_SEED: "42" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const response = await fetch(`${url}/__health`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function migrate(): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "migrate"],
    cwd: ROOT,
    env: { WAREHOUSE_DB: BENCH_DB },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    throw new Error(`Migrating ${BENCH_DB} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

function adminClient(): pg.Client {
  return new pg.Client({
    host: PG.host,
    port: Number(PG.port),
    database: BENCH_DB,
    user: PG.superuser,
    password: PG.superPassword,
  });
}

function psqlEnv(): Record<string, string> {
  return {
    PGHOST: PG.host,
    PGPORT: PG.port,
    PGDATABASE: BENCH_DB,
    PGUSER: PG.superuser,
    PGPASSWORD: PG.superPassword,
    PATH: env.PATH ?? "/usr/bin:/bin",
  };
}

async function psql(sql: string): Promise<void> {
  const output = await new Deno.Command("psql", {
    args: ["-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
    env: psqlEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) throw new Error(`psql failed: ${new TextDecoder().decode(output.stderr)}`);
}

/**
 * The command `deno task extract` runs (as make and the DAG do, V8 flags included), taken from
 * deno.json so the benchmark measures it without the task runner's own start-up.
 */
async function extractTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const [program, ...args] = String(config.tasks.extract).split(/\s+/);
  if (program !== "deno") throw new Error(`Unexpected extract task: ${config.tasks.extract}`);
  return args;
}

/** One extractor run of `date`: the extract task's command under /usr/bin/time, as loader. */
async function runExtractor(url: string, date: Date) {
  const start = date.toISOString().slice(0, 10);
  const end = new Date(date.getTime() + 86_400_000).toISOString().slice(0, 10);
  const result = await measured(Deno.execPath(), [
    ...await extractTaskArgs(),
    "--start",
    start,
    "--end",
    end,
  ], {
    env: {
      PGHOST: PG.host,
      PGPORT: PG.port,
      PGDATABASE: BENCH_DB,
      PGUSER: "loader",
      PGPASSWORD: PG.loaderPassword,
      FAKESTORE_BASE_URL: url,
      LOG_LEVEL: "info",
    },
  });
  if (result.code !== 0) throw new Error(`The extractor failed:\n${result.stderr}`);
  const lines = result.stderr.trim().split("\n").map((line) => JSON.parse(line));
  const done = lines.find((line) => line.msg === "Extract succeeded");
  const fetched = lines.filter((line) => line.msg === "Fetched");
  const counts = done.counts as Record<string, { landed: number }>;
  const rows = Object.values(counts).reduce((sum, count) => sum + count.landed, 0);
  return {
    measure: { wallMs: result.wallMs, peakKiB: result.peakKiB, rows },
    inProcessMs: done.duration_ms as number,
    fetchMs: Math.max(...fetched.map((line) => line.ms as number)),
    phases: {
      fetch: done.fetch_ms as number,
      validate: done.validate_ms as number,
      land: done.land_ms as number,
    },
    loadId: done.load_id as string,
  };
}

/** Where the extractor's snapshot stages are moved (db/migrations/0007): manifest + payloads. */
const SNAPSHOTS: Partial<
  Record<(typeof ENTITIES)[number], { manifest: string; payloads: string }>
> = {
  products: {
    manifest: "raw.fakestore_product_manifest",
    payloads: "raw.fakestore_product_payloads",
  },
  users: { manifest: "raw.fakestore_user_manifest", payloads: "raw.fakestore_user_payloads" },
};

/**
 * The rows run `loadId` COPYed for `entity`, in the extractor's COPY shape: carts straight from
 * raw, a snapshot entity as its manifest joined to its payloads (macros/fakestore_snapshot.sql).
 */
function landedRows(entity: (typeof ENTITIES)[number], loadId: string): string {
  const snapshot = SNAPSHOTS[entity];
  if (snapshot === undefined) {
    return `select * from raw.fakestore_${entity} where load_id = '${loadId}'`;
  }
  return `select m.load_id, m.record_id, p.payload, m.payload_hash, m.endpoint, m.request_url, ` +
    `m.http_status, m.interval_start, m.interval_end, m.extracted_at ` +
    `from ${snapshot.manifest} as m join ${snapshot.payloads} as p ` +
    `on m.record_id = p.record_id and m.payload_hash = p.payload_hash ` +
    `where m.load_id = '${loadId}'`;
}

/**
 * `psql \copy` of the rows the run `loadId` COPYed, into what the extractor COPYs them into:
 * carts into a copy of raw.fakestore_carts (same checks, indexes, foreign key; a delete first),
 * products and users into a temporary table shaped like the extractor's stage.
 */
async function runCopy(loadId: string, dir: string): Promise<Measure> {
  let rows = 0;
  const client = adminClient();
  await client.connect();
  try {
    await client.query("create schema if not exists bench_copy");
    await client.query("drop table if exists bench_copy.fakestore_carts");
    await client.query(
      `create table bench_copy.fakestore_carts (
           like raw.fakestore_carts including all,
           foreign key (load_id) references audit.extract_runs (load_id)
       )`,
    );
    for (const entity of ENTITIES) {
      const { rows: counted } = await client.query(
        `select count(*)::int as n from (${landedRows(entity, loadId)}) as landed`,
      );
      rows += counted[0].n as number;
    }
  } finally {
    await client.end();
  }
  for (const entity of ENTITIES) {
    await psql(`\\copy (${landedRows(entity, loadId)}) to '${dir}/${entity}.tsv'`);
  }
  // The ceiling does what the extractor's landing does before its move: one transaction, the
  // carts' delete, a temporary stage per snapshot entity, COPY in.
  const script = ENTITIES.map((entity) =>
    SNAPSHOTS[entity] === undefined
      ? `delete from bench_copy.fakestore_${entity};\n` +
        `\\copy bench_copy.fakestore_${entity} from '${dir}/${entity}.tsv'`
      : `create temp table ${entity}_landing on commit drop as ` +
        `${landedRows(entity, loadId)} with no data;\n` +
        `\\copy ${entity}_landing from '${dir}/${entity}.tsv'`
  ).join("\n");
  await Deno.writeTextFile(`${dir}/copy.sql`, script + "\n");
  const result = await measured("psql", [
    "-v",
    "ON_ERROR_STOP=1",
    "-q",
    "-1",
    "-f",
    `${dir}/copy.sql`,
  ], {
    env: psqlEnv(),
  });
  if (result.code !== 0) throw new Error(`psql \\copy failed: ${result.stderr}`);
  return { wallMs: result.wallMs, peakKiB: result.peakKiB, rows };
}

async function machine(): Promise<Record<string, string>> {
  const load = startLoad ?? "unknown";
  const memKiB = Deno.systemMemoryInfo().total / 1024;
  const client = adminClient();
  await client.connect();
  const { rows } = await client.query("select current_setting('server_version') as v");
  await client.end();
  return {
    cpu: await cpuDescription(),
    memory: `${(memKiB / 1024 / 1024).toFixed(1)} GiB`,
    os: `${Deno.build.os} ${Deno.osRelease()} (${Deno.build.arch})`,
    deno: Deno.version.deno,
    postgres: String(rows[0].v),
    load,
  };
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function fmtRate(rows: number, ms: number): string {
  return Math.round(rows / (ms / 1000)).toLocaleString("en-US");
}

function fmtMiB(values: Array<number | undefined>): string {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? "n/a" : `${(median(known) / 1024).toFixed(0)} MiB`;
}

function report(results: ScaleResult[], host: Record<string, string>, runs: number): string {
  const lines = [
    "## Extract",
    "",
    "`deno task bench:extract` (tests/bench/extract_bench.ts), run " +
    new Date().toISOString().slice(0, 10) + ". For each scale of the offline server, the " +
    "extractor CLI (the command of `deno task extract`, its V8 flags included) lands one day " +
    "(`--start D --end D+1`, as the loader role, a new day per " +
    `run, median of ${runs} runs), then \`psql \\copy\` loads the very same rows into what ` +
    "the extractor COPYs them into, in one transaction: carts into a copy of " +
    "raw.fakestore_carts (same indexes, checks and foreign key, a delete first), products and " +
    "users (their manifest rows joined to their payloads) into a temporary table shaped like " +
    "the extractor's stage. The ceiling, with no HTTP, no validation, no hashing, and without " +
    "the extractor's move of the stages into payloads and manifest.",
    "",
    "| scale | rows landed | extractor wall | extractor rows/s | in-process | slowest GET | extractor peak RSS | `psql \\copy` wall | `psql \\copy` rows/s | `psql` peak RSS |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const result of results) {
    const wall = median(result.extractor.map((m) => m.wallMs));
    const copyWall = median(result.copy.map((m) => m.wallMs));
    lines.push(
      `| ${result.scale} | ${result.rows.toLocaleString("en-US")} | ${fmtMs(wall)} | ` +
        `${fmtRate(result.rows, wall)} | ${fmtMs(median(result.inProcessMs))} | ` +
        `${fmtMs(median(result.fetchMs))} | ${fmtMiB(result.extractor.map((m) => m.peakKiB))} | ` +
        `${fmtMs(copyWall)} | ${fmtRate(result.rows, copyWall)} | ` +
        `${fmtMiB(result.copy.map((m) => m.peakKiB))} |`,
    );
  }
  lines.push(
    "",
    "Where the extractor's in-process time goes (medians; fetch = opening the three GETs in " +
      "parallel, up to each body's first element; validate = zod, hashing and the carts' " +
      "interval filter, element by element; land = the one transaction, interleaved with the " +
      "reads: receiving and parsing the bodies, delete, COPY, audit row):",
    "",
    "| scale | fetch | validate + hash | land |",
    "|---:|---:|---:|---:|",
    ...results.map((result) =>
      `| ${result.scale} | ${fmtMs(median(result.phases.map((p) => p.fetch)))} | ` +
      `${fmtMs(median(result.phases.map((p) => p.validate)))} | ` +
      `${fmtMs(median(result.phases.map((p) => p.land)))} |`
    ),
  );
  lines.push(
    "",
    "- *extractor wall*: the whole CLI process (Deno start-up included); *in-process*: the " +
      "run's `duration_ms` in audit.extract_runs (fetch, validation, hashing, landing); " +
      "*slowest GET*: the longest of the three parallel requests, server-side generation " +
      "included; peak RSS from `/usr/bin/time -f %M`.",
    "- Rows landed per day: 20·s products + 10·s users + about 1.25·s carts.",
    "- Scale 5000 is for this benchmark only (the stack runs scale 1000 at most).",
    "",
    `\`${summaryLine(results)}\``,
    "",
    "Before the streaming extractor (issue #10, whole responses in memory, 2026-11-27 on this " +
      "machine): peak RSS 83 / 115 / 238 MiB at scale 1 / 100 / 1000, rows/s 0.39x-0.45x " +
      "`psql \\copy` at 1000.",
    "",
    `Machine: ${host.cpu}; ${host.memory} RAM; ${host.os}; Deno ${host.deno}; ` +
      `PostgreSQL ${host.postgres} (stack/postgres/tuning.conf), server, extractor and database ` +
      `on the same host; load average ${host.load} when the benchmark started (a shared ` +
      "machine: other work competes for the 2 CPUs, so treat the figures as orders of " +
      "magnitude and compare the two columns of one run).",
    "",
  );
  return lines.join("\n");
}

/** Peak RSS goal of the streaming extractor at scales 1000 and 5000 (issue #10). */
const RSS_GOAL_MIB = 128;

/** The one-line verdict: peak RSS at 1000 and 5000 against the goal, rows/s against COPY. */
export function summaryLine(results: ScaleResult[]): string {
  const rss = (scale: number) => {
    const result = results.find((r) => r.scale === scale);
    return result === undefined ? "n/a" : fmtMiB(result.extractor.map((m) => m.peakKiB));
  };
  const at1000 = results.find((r) => r.scale === 1000);
  const ratio = at1000 === undefined ? "n/a" : (median(at1000.copy.map((m) => m.wallMs)) /
    median(at1000.extractor.map((m) => m.wallMs))).toFixed(2) + "x";
  return `extract: peak RSS ${rss(1000)} at 1000, ${rss(5000)} at 5000 ` +
    `(goal <= ${RSS_GOAL_MIB}), rows/s ${ratio} copy`;
}

/** Replaces (or adds) the "## Extract" section of docs/performance.md. */
async function writeSection(section: string): Promise<void> {
  const path = `${ROOT}docs/performance.md`;
  let text = await Deno.readTextFile(path).catch(() =>
    "# Performance\n\nBenchmarks of the pipeline's parts (`make bench`); each section says how " +
    "to reproduce it.\n\n"
  );
  const start = text.indexOf("## Extract\n");
  if (start === -1) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf("\n## ", start + 1);
    const rest = next === -1 ? "" : `\n${text.slice(next + 1)}`;
    text = text.slice(0, start) + section.trimEnd() + "\n" + rest;
  }
  await Deno.writeTextFile(path, text.endsWith("\n") ? text : `${text}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scales: { type: "string", default: "1,100,1000,5000" },
      runs: { type: "string", default: "3" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const scales = values.scales.split(",").map(Number);
  const runs = Number(values.runs);
  startLoad = await loadAverage();
  await migrate();
  const dir = await Deno.makeTempDir({ prefix: "bench_extract_" });
  const results: ScaleResult[] = [];
  let dayOffset = 0;
  try {
    for (const scale of scales) {
      const server = await startFakestore(scale);
      const result: ScaleResult = {
        scale,
        rows: 0,
        extractor: [],
        inProcessMs: [],
        fetchMs: [],
        phases: [],
        copy: [],
      };
      try {
        for (let run = 0; run < runs; run++) {
          const date = new Date(FIRST_DAY + dayOffset++ * 86_400_000);
          const extracted = await runExtractor(server.url, date);
          result.extractor.push(extracted.measure);
          result.inProcessMs.push(extracted.inProcessMs);
          result.fetchMs.push(extracted.fetchMs);
          result.phases.push(extracted.phases);
          const copied = await runCopy(extracted.loadId, dir);
          if (copied.rows !== extracted.measure.rows) {
            throw new Error(
              `Row counts differ: ${copied.rows} copied, ${extracted.measure.rows} landed`,
            );
          }
          result.copy.push(copied);
          result.rows = extracted.measure.rows;
          console.log(
            `scale ${scale} run ${run + 1}: ${extracted.measure.rows} rows, extractor ` +
              `${fmtMs(extracted.measure.wallMs)} (${fmtMiB([extracted.measure.peakKiB])}), ` +
              `psql \\copy ${fmtMs(copied.wallMs)}`,
          );
        }
      } finally {
        await server.stop();
      }
      results.push(result);
      console.log(
        `scale ${scale}: peak RSS ${fmtMiB(result.extractor.map((m) => m.peakKiB))} ` +
          `(median of ${runs})`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const section = report(results, await machine(), runs);
  console.log(`\n${section}`);
  console.log(summaryLine(results));
  if (!values["no-write"]) {
    await writeSection(section);
    console.log("Written to docs/performance.md");
  }
}

if (import.meta.main) {
  await main();
}
