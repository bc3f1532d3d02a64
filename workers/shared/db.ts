/** PostgreSQL helpers shared by workers: a pool from config, and a transaction wrapper. */
// @ts-types="@types/pg"
import pg from "pg";
import { isQueryTimeout, RetriableError } from "./errors.ts";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** Connection settings as parsed by `pgEnv`. */
export interface PgSettings {
  PGHOST: string;
  PGPORT: number;
  PGDATABASE: string;
  PGUSER: string;
  PGPASSWORD: string;
  /** Client side: a query without an answer this long fails (a frozen server, a blackhole). */
  PG_QUERY_TIMEOUT_MS?: number | undefined;
  /** Client side: waiting this long for a pool slot or a new connection fails. */
  PG_CONNECT_TIMEOUT_MS?: number | undefined;
  /** Server side (statement_timeout): a statement running this long is cancelled. */
  PG_STATEMENT_TIMEOUT_MS?: number | undefined;
  /** Server side: a session idle in a transaction this long is ended (an abandoned client). */
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number | undefined;
}

/** Defaults of the timeouts; the client's query timeout outlasts the server's, which names the statement. */
export const PG_TIMEOUT_DEFAULTS = {
  PG_QUERY_TIMEOUT_MS: 70_000,
  PG_CONNECT_TIMEOUT_MS: 10_000,
  PG_STATEMENT_TIMEOUT_MS: 60_000,
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: 60_000,
} as const;

/**
 * Opens a pool for `settings`; `applicationName` shows in pg_stat_activity. Both kinds of
 * timeout are set: the server's cannot fire while the server is frozen, the client's can (its
 * "Query read timeout" is retriable, and `withClient` destroys the client it fired on).
 */
export function createPool(
  settings: PgSettings,
  options: { applicationName: string; max?: number },
): pg.Pool {
  const timeouts = { ...PG_TIMEOUT_DEFAULTS, ...definedOnly(settings) };
  return new pg.Pool({
    host: settings.PGHOST,
    port: settings.PGPORT,
    database: settings.PGDATABASE,
    user: settings.PGUSER,
    password: settings.PGPASSWORD,
    application_name: options.applicationName,
    max: options.max ?? 4,
    connectionTimeoutMillis: timeouts.PG_CONNECT_TIMEOUT_MS,
    query_timeout: timeouts.PG_QUERY_TIMEOUT_MS,
    // Startup parameters: the server applies them to the session, no extra round trip.
    statement_timeout: timeouts.PG_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: timeouts.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
}

/** The timeout settings that are set (an explicit undefined must not hide a default). */
function definedOnly(settings: PgSettings): Partial<typeof PG_TIMEOUT_DEFAULTS> {
  const set: Record<string, number> = {};
  for (const key of Object.keys(PG_TIMEOUT_DEFAULTS) as Array<keyof PgSettings>) {
    const value = settings[key];
    if (typeof value === "number") set[key] = value;
  }
  return set;
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
      // No ROLLBACK on a client whose query timed out: it would wait for the same silent server.
      // withClient destroys the client after any failure; closing the session rolls back.
      if (!isQueryTimeout(error)) {
        await client.query("ROLLBACK").catch(() => {});
      }
      throw error;
    }
  });
}
