/** PostgreSQL helpers shared by workers: a pool from config, and a transaction wrapper. */
// @ts-types="@types/pg"
import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** Connection settings as parsed by `pgEnv`. */
export interface PgSettings {
  PGHOST: string;
  PGPORT: number;
  PGDATABASE: string;
  PGUSER: string;
  PGPASSWORD: string;
}

/** Opens a pool for `settings`; `applicationName` shows in pg_stat_activity. */
export function createPool(
  settings: PgSettings,
  options: { applicationName: string; max?: number },
): pg.Pool {
  return new pg.Pool({
    host: settings.PGHOST,
    port: settings.PGPORT,
    database: settings.PGDATABASE,
    user: settings.PGUSER,
    password: settings.PGPASSWORD,
    application_name: options.applicationName,
    max: options.max ?? 4,
    connectionTimeoutMillis: 10_000,
  });
}

/** Runs `work` inside BEGIN/COMMIT on one client; rolls back and rethrows on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
