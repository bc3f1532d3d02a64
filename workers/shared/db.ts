/** PostgreSQL helpers shared by workers: a pool from config, and a transaction wrapper. */
// @ts-types="@types/pg"
import pg from "pg";
import { RetriableError } from "./errors.ts";

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

/** Options of `withClient`. */
export interface WithClientOptions {
  /**
   * What `work` does, e.g. "landing". When set, a failure after the connection was lost (the
   * client emitted 'error') is rethrown as a RetriableError naming it. Only for work that is
   * one transaction: nothing was committed when the connection died, so a retry is safe.
   */
  retriableWhenLost?: string;
}

/**
 * Runs `work` on one checked-out client and releases it. pg-pool drops its own error listener
 * while a client is checked out: without this one, a server that goes away between two queries
 * crashes the process with an unhandled 'error'. The query in flight still rejects, so `work`
 * sees the failure; after any failure the client is destroyed, not returned to the pool.
 */
export async function withClient<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: WithClientOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onError);
  try {
    return await work(client);
  } catch (error) {
    const lost = broken !== undefined;
    // The query can reject before the 'error' event fires, and a failed client's state is not
    // worth trusting: after any failure the client is destroyed (the pool opens a new one).
    broken ??= error instanceof Error ? error : new Error(String(error));
    if (lost && options.retriableWhenLost !== undefined) {
      throw new RetriableError(
        `Lost the PostgreSQL connection while ${options.retriableWhenLost}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** Runs `work` inside BEGIN/COMMIT on one client; rolls back and rethrows on any error. */
export function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  });
}
