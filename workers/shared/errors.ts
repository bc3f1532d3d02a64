/**
 * The few domain errors the workers share, and the one place that decides retriable vs fatal.
 * Programmer mistakes stay built-in errors (TypeError, RangeError).
 */

/** A failure upstream (HTTP 5xx, a broker or database that is down) worth retrying. */
export class RetriableError extends Error {
  override name = "RetriableError";
}

/** A record that fails validation; carries where it came from so it can be dead-lettered. */
export class InvalidRecordError extends Error {
  override name = "InvalidRecordError";
}

/** Bad configuration: names every bad key. Never retried. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const RETRIABLE_PG_CODES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "08000", // connection_exception
  "08003", // connection_does_not_exist
  "08006", // connection_failure
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "53300", // too_many_connections
]);

const RETRIABLE_NET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTCONN",
]);

/**
 * The single decision: is this error worth another try? Walks the cause chain. kafkajs marks
 * its own errors with `retriable`; after its retrier gives up it wraps them in an error marked
 * false (KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError), so the flag is read on
 * every link: a retriable cause under an exhausted retry is still a retriable outage.
 */
export function isRetriable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof RetriableError) return true;
    if (
      current instanceof ConfigError || current instanceof InvalidRecordError ||
      current instanceof GaveUpError
    ) {
      return false;
    }
    if ((current as { retriable?: unknown }).retriable === true) return true;
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === "string" && (RETRIABLE_PG_CODES.has(code) || RETRIABLE_NET_CODES.has(code))
    ) {
      return true;
    }
    if (
      current instanceof Error &&
      // pg's messages for a lost connection, a pool that found no client in
      // connectionTimeoutMillis ("timeout exceeded when trying to connect") and a query that
      // outran query_timeout ("Query read timeout"): all outages, none the data's fault.
      /Connection terminated|connection not open|not queryable|Connection refused|timeout exceeded when trying to connect|Query read timeout/i
        .test(current.message)
    ) {
      return true;
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/**
 * A call that failed for good: its retries are spent, or the answer is one that no retry can
 * change (an HTTP 400 or 404). Never retried, whatever its cause says.
 */
export class GaveUpError extends Error {
  override name = "GaveUpError";
}

/**
 * A data error: PostgreSQL refused a value (SQLSTATE class 22, e.g. a number beyond `numeric`)
 * or hit a size limit (class 54). The row is at fault, not the connection: it is dead-lettered,
 * never retried.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("54"));
}

/**
 * pg's client-side query_timeout fired: the server did not answer in time. The client's state is
 * unknown (its query may still run), so it is not used again, not even for a ROLLBACK.
 */
export function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "Query read timeout";
}
