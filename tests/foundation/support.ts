/** Helpers for the foundation tests: connections as each role, and the instance settings. */
// @ts-types="@types/pg"
import pg from "pg";

export const env = (key: string, fallback?: string): string => {
  const value = Deno.env.get(key) ?? fallback;
  if (value === undefined) throw new Error(`Test needs ${key} in the environment`);
  return value;
};

/** A connected client to `database` (default: this suite's) as `role`. */
export async function connectAs(
  role: "postgres" | "loader" | "transformer" | "analyst",
  database = env("PGDATABASE"),
): Promise<pg.Client> {
  const passwords = {
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
  });
  await client.connect();
  return client;
}

/**
 * Runs `deno task migrate` for `database`, optionally only up to version `to`, or (`down`)
 * running the down migrations of every version after `to`.
 */
export async function migrate(database: string, to?: string, down = false): Promise<string> {
  const args = ["task", "-q", "migrate", ...(to ? [down ? "--down-to" : "--to", to] : [])];
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { WAREHOUSE_DB: database, PGDATABASE: database },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`migrate ${database} failed: ${text}`);
  return text;
}

/** Creates an empty database (dropping an old one of that name). */
export async function freshDatabase(name: string): Promise<void> {
  const admin = await connectAs("postgres", "postgres");
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = await connectAs("postgres", "postgres");
  try {
    await admin.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}
