/**
 * Brings the warehouse database to the newest schema: applies every pending file in
 * db/migrations with node-pg-migrate (applied versions are recorded in public.pgmigrations),
 * then syncs the role passwords from the environment. Idempotent: a second run changes nothing.
 * Runs as the database superuser (roles are cluster-wide), creating the database if missing.
 *
 *   deno task migrate            # up to the newest version
 *   deno task migrate --to 0002  # up to (and including) that version, e.g. to test an upgrade
 *   deno task migrate --down-to 0006  # runs the down migrations of every version after 0006
 */
// @ts-types="@types/pg"
import pg from "pg";
import { runner } from "node-pg-migrate";
import { z } from "zod";
import { createLogger, parseConfig, runMain } from "../workers/shared/mod.ts";

const logger = createLogger("migrate");

const config = parseConfig(z.object({
  PGHOST: z.string().default("127.0.0.1"),
  PGPORT: z.coerce.number().int().default(5432),
  WAREHOUSE_DB: z.string().regex(/^[a-z_][a-z0-9_]*$/).default("warehouse"),
  POSTGRES_USER: z.string().default("postgres"),
  POSTGRES_PASSWORD: z.string().default("postgres"),
  LOADER_PASSWORD: z.string().min(1).default("loader"),
  TRANSFORMER_PASSWORD: z.string().min(1).default("transformer"),
  ANALYST_PASSWORD: z.string().min(1).default("analyst"),
}));

const MIGRATIONS_DIR = new URL("./migrations", import.meta.url).pathname;

function clientFor(database: string): pg.Client {
  return new pg.Client({
    host: config.PGHOST,
    port: config.PGPORT,
    user: config.POSTGRES_USER,
    password: config.POSTGRES_PASSWORD,
    database,
    application_name: "migrate",
  });
}

async function ensureDatabase(): Promise<void> {
  const admin = clientFor("postgres");
  await admin.connect();
  try {
    const found = await admin.query("select 1 from pg_database where datname = $1", [
      config.WAREHOUSE_DB,
    ]);
    if (found.rowCount === 0) {
      await admin.query(`create database "${config.WAREHOUSE_DB}"`);
      logger.info("Created database", { database: config.WAREHOUSE_DB });
    }
  } finally {
    await admin.end();
  }
}

async function syncPasswords(client: pg.Client): Promise<void> {
  const roles: Array<[string, string]> = [
    ["loader", config.LOADER_PASSWORD],
    ["transformer", config.TRANSFORMER_PASSWORD],
    ["analyst", config.ANALYST_PASSWORD],
  ];
  for (const [role, password] of roles) {
    // ALTER ROLE takes no bind parameters; quote_literal does the escaping server-side.
    const { rows } = await client.query<{ sql: string }>(
      "select format('alter role %I password %L', $1::text, $2::text) as sql",
      [role, password],
    );
    await client.query(rows[0]!.sql);
  }
}

/** The command line: `--to NNNN` (up to that version) or `--down-to NNNN` (down to it). */
function parseArgs(args: string[]): { to?: string; downTo?: string } {
  const value = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    if (index === -1) return undefined;
    const version = args[index + 1];
    if (!version || !/^\d{4}$/.test(version)) {
      throw new RangeError(`${flag} needs a 4-digit version, got ${version}`);
    }
    return version;
  };
  const to = value("--to");
  const downTo = value("--down-to");
  if (to !== undefined && downTo !== undefined) {
    throw new RangeError(`Give --to or --down-to, not both (got ${to} and ${downTo})`);
  }
  return { ...(to ? { to } : {}), ...(downTo ? { downTo } : {}) };
}

/** How many of the migrations not yet applied come at or before the file `target`. */
async function pendingUpTo(client: pg.Client, files: string[], target: string): Promise<number> {
  const { rows: table } = await client.query<{ exists: boolean }>(
    "select to_regclass('public.pgmigrations') is not null as exists",
  );
  const { rows } = table[0]!.exists
    ? await client.query<{ name: string }>("select name from public.pgmigrations")
    : { rows: [] };
  const applied = new Set(rows.map((row) => row.name));
  return files.filter((file) => file <= target && !applied.has(file.replace(/\.sql$/, ""))).length;
}

/** Runs the down migration of every applied version after `downTo`, newest first. */
async function migrateDown(client: pg.Client, downTo: string): Promise<string[]> {
  const { rows } = await client.query<{ count: number }>(
    "select count(*)::int as count from public.pgmigrations where substr(name, 1, 4) > $1",
    [downTo],
  );
  if (rows[0]!.count === 0) return [];
  const reverted = await runner({
    dbClient: client,
    dir: MIGRATIONS_DIR,
    direction: "down",
    count: rows[0]!.count,
    migrationsTable: "pgmigrations",
    migrationsSchema: "public",
    checkOrder: true,
    singleTransaction: true,
    log: (message: string) => logger.debug(message),
  });
  return reverted.map((migration) => migration.name);
}

async function main(): Promise<void> {
  const { to, downTo } = parseArgs(Deno.args);
  await ensureDatabase();
  const client = clientFor(config.WAREHOUSE_DB);
  await client.connect();
  try {
    if (downTo !== undefined) {
      const reverted = await migrateDown(client, downTo);
      logger.info("Database is down to the version", {
        database: config.WAREHOUSE_DB,
        reverted,
        target: downTo,
      });
      return;
    }
    const files = [...Deno.readDirSync(MIGRATIONS_DIR)]
      .map((entry) => entry.name)
      .filter((name) => name.endsWith(".sql"))
      .sort();
    const target = to ? files.filter((name) => name.slice(0, 4) <= to).at(-1) : undefined;
    // node-pg-migrate's `file` runs that one migration only: "up to" is a count of pending ones.
    const count = target === undefined ? undefined : await pendingUpTo(client, files, target);
    const applied = count === 0 ? [] : await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "pgmigrations",
      migrationsSchema: "public",
      ...(count === undefined ? {} : { count }),
      checkOrder: true,
      singleTransaction: true,
      log: (message: string) => logger.debug(message),
    });
    await syncPasswords(client);
    logger.info("Database is up to date", {
      database: config.WAREHOUSE_DB,
      applied: applied.map((migration) => migration.name),
      target: target ?? "newest",
    });
  } finally {
    await client.end();
  }
}

if (import.meta.main) {
  await runMain(logger, main);
}
