/**
 * Brings the warehouse database to the newest schema: applies every pending file in
 * db/migrations with node-pg-migrate (applied versions are recorded in public.pgmigrations),
 * then syncs the role passwords from the environment. Idempotent: a second run changes nothing.
 * Runs as the database superuser (roles are cluster-wide), creating the database if missing.
 *
 *   deno task migrate            # up to the newest version
 *   deno task migrate --to 0002  # up to (and including) that version, e.g. to test an upgrade
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

function parseArgs(args: string[]): { to?: string } {
  const index = args.indexOf("--to");
  if (index === -1) return {};
  const to = args[index + 1];
  if (!to || !/^\d{4}$/.test(to)) throw new RangeError(`--to needs a 4-digit version, got ${to}`);
  return { to };
}

async function main(): Promise<void> {
  const { to } = parseArgs(Deno.args);
  await ensureDatabase();
  const client = clientFor(config.WAREHOUSE_DB);
  await client.connect();
  try {
    const files = [...Deno.readDirSync(MIGRATIONS_DIR)]
      .map((entry) => entry.name)
      .filter((name) => name.endsWith(".sql"))
      .sort();
    const target = to ? files.filter((name) => name.slice(0, 4) <= to).at(-1) : undefined;
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: "up",
      migrationsTable: "pgmigrations",
      migrationsSchema: "public",
      ...(target ? { file: target.replace(/\.sql$/, "") } : {}),
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
