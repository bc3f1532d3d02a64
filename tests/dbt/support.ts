/**
 * Helpers for the dbt suite: run dbt and the extractor as subprocesses, and query the suite's
 * database as a given role. Every dbt run writes its target/ and logs/ under one temporary
 * directory, so concurrent runs (a developer's, another suite's) never collide.
 */
// @ts-types="@types/pg"
import pg from "pg";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Reads a required environment variable. */
export function env(name: string, fallback?: string): string {
  const value = Deno.env.get(name) ?? fallback;
  if (value === undefined || value === "") throw new Error(`Missing environment variable ${name}`);
  return value;
}

/** The outcome of a finished subprocess. */
export interface Finished {
  code: number;
  output: string;
}

/** Runs `command` from the repo root with extra environment; never throws on a non-zero exit. */
export async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<Finished> {
  const result = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: options.env ?? {},
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/** Throws with the output's tail unless `finished` exited 0. */
export function expectSuccess(what: string, finished: Finished): Finished {
  if (finished.code !== 0) {
    throw new Error(`${what} exited ${finished.code}:\n${finished.output.slice(-6000)}`);
  }
  return finished;
}

/** dbt, pointed at this repo, with target/ and logs/ under `workDir` (and extra environment). */
export function dbtRunner(
  workDir: string,
  extraEnv: Record<string, string> = {},
): (args: string[]) => Promise<Finished> {
  const dbtBin = env("DBT_BIN", "dbt");
  return (args) =>
    run(dbtBin, [
      ...args,
      "--project-dir",
      ROOT,
      "--profiles-dir",
      ROOT,
      "--target-path",
      `${workDir}/target`,
      "--log-path",
      `${workDir}/logs`,
    ], { env: { DBT_PROFILES_DIR: ROOT, DBT_SEND_ANONYMOUS_USAGE_STATS: "false", ...extraEnv } });
}

/** Runs the real extractor for [start, end) against FAKESTORE_BASE_URL as the loader role. */
export async function extract(
  start: string,
  end: string,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const finished = await run(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "workers/extract/main.ts",
    "--start",
    start,
    "--end",
    end,
  ], {
    env: {
      PGUSER: "loader",
      PGPASSWORD: env("LOADER_PASSWORD", "loader"),
      LOG_LEVEL: "warn",
      ...extraEnv,
    },
  });
  expectSuccess(`extract ${start}..${end}`, finished);
}

/** A role the suite connects as. */
export type Role = "postgres" | "loader" | "transformer" | "analyst";

/** A connected client to the suite's database (or `database`) as `role`. */
export async function connect(role: Role, database = env("PGDATABASE")): Promise<pg.Client> {
  const passwords: Record<string, string> = {
    postgres: env("POSTGRES_PASSWORD", "postgres"),
    loader: env("LOADER_PASSWORD", "loader"),
    transformer: env("TRANSFORMER_PASSWORD", "transformer"),
    analyst: env("ANALYST_PASSWORD", "analyst"),
  };
  const client = new pg.Client({
    host: env("PGHOST", "127.0.0.1"),
    port: Number(env("PGPORT", "5432")),
    database,
    user: role === "postgres" ? env("POSTGRES_USER", "postgres") : role,
    password: passwords[role],
    application_name: "dbt-suite",
  });
  await client.connect();
  return client;
}

/** Runs `work` with a client as `role` (on `database`, default the suite's), closing it afterwards. */
export async function withClient<T>(
  role: Role,
  work: (client: pg.Client) => Promise<T>,
  database?: string,
): Promise<T> {
  const client = await connect(role, database);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** One row of dbt's run_results.json. */
export interface RunResult {
  unique_id: string;
  status: string;
  failures: number | null;
  adapter_response?: { rows_affected?: number };
}

/** The results of the last dbt command run with `workDir`. */
export async function runResults(workDir: string): Promise<RunResult[]> {
  const text = await Deno.readTextFile(`${workDir}/target/run_results.json`);
  return (JSON.parse(text) as { results: RunResult[] }).results;
}

/** `YYYY-MM-DD` of `base` plus `days`. */
export function addDays(base: string, days: number): string {
  const ms = Date.parse(`${base}T00:00:00Z`) + days * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}

/** The line dbt ends a run with: `Done. PASS=… WARN=… ERROR=… …`. */
export function doneLine(output: string): string | undefined {
  return output.split("\n").map((line) => line.trim()).reverse().find((line) =>
    /Done\. PASS=\d+/.test(line)
  )?.replace(/^\d{2}:\d{2}:\d{2}\s+/, "");
}
