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
  // pg-pool drops its own error listener while a client is checked out: without this one, a
  // server that goes away between two queries crashes the process with an unhandled 'error'.
  // The query in flight still rejects, so the caller sees the failure.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.off("error", onError);
    // a broken connection is destroyed, not returned to the pool
    client.release(broken);
  }
}
