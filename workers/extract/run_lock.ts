/**
 * One run per interval at a time, and no audit row left `running` by a run that is gone. A run
 * holds a session-level advisory lock on its interval for its whole life, on a connection of its
 * own; PostgreSQL releases it when that session ends, however the process died (SIGKILL, lost
 * network). So a `running` row whose interval lock can be taken has no live run behind it: the
 * next run marks it failed. No clock, heartbeat or timeout is guessed.
 */
import type { Pool, PoolClient } from "../shared/mod.ts";
import type { Interval } from "./interval.ts";

/** The lock's key for a timestamptz expression: the same in every session, whatever its time zone. */
const lockKey = (timestamp: string): string =>
  `hashtext('extract-run'), hashtext(extract(epoch from ${timestamp})::text)`;

/** Why a swept row failed: what its audit row says. */
export const ABANDONED_ERROR =
  "Abandoned: no process holds its interval's run lock any more (killed, or lost its database " +
  "connection)";

/** The held lock of one run. */
export interface RunLock {
  /** Load ids of the `running` rows this run found abandoned and marked failed. */
  abandoned: string[];
  /** Releases the lock and its connection. */
  release(): Promise<void>;
}

/**
 * Waits for the run lock of `interval`, then marks failed every `running` audit row whose
 * interval lock is free (its run is gone): this interval's, and any other interval's that no
 * live run holds.
 */
export async function lockRunInterval(pool: Pool, interval: Interval): Promise<RunLock> {
  const client: PoolClient = await pool.connect();
  const start = interval.start.toISOString();
  try {
    await client.query(`select pg_advisory_lock(${lockKey("$1::timestamptz")})`, [start]);
  } catch (error) {
    client.release(true);
    throw error;
  }
  let abandoned: string[];
  try {
    // Transaction-level try-locks of other intervals end with the transaction; the session lock
    // on our own interval is re-entrant, so its stale rows are taken too.
    await client.query("begin");
    const { rows } = await client.query<{ load_id: string }>(
      `update audit.extract_runs
       set status = 'failed',
           finished_at = greatest(now(), started_at),
           duration_ms = least(
               extract(epoch from greatest(now(), started_at) - started_at) * 1000, 2147483647
           )::integer,
           error = $1
       where status = 'running'
         and case when status = 'running'
             then pg_try_advisory_xact_lock(${lockKey("interval_start")}) else false end
       returning load_id`,
      [ABANDONED_ERROR],
    );
    await client.query("commit");
    abandoned = rows.map((row) => row.load_id);
  } catch (error) {
    // Dropping the connection releases the session lock too.
    client.release(true);
    throw error;
  }
  return {
    abandoned,
    async release() {
      try {
        await client.query(`select pg_advisory_unlock(${lockKey("$1::timestamptz")})`, [start]);
        client.release();
      } catch (error) {
        client.release(error as Error);
      }
    },
  };
}
