/**
 * One structured logger for every worker: JSON lines on stderr with a level, the worker's name
 * and whatever ids the caller passes (load id, topic, partition, offset). stdout stays free for
 * a command's real output.
 */

export type LogLevel = "debug" | "info" | "warn" | "error" | "alert";
export type LogFields = Record<string, unknown>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, alert: 50 };

/** A logger bound to one worker and a set of fields repeated on every line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Needs a human: e.g. the same fatal error again and again at one offset. */
  alert(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line it writes. */
  child(fields: LogFields): Logger;
}

/** Creates the logger of `worker`; `level` defaults to LOG_LEVEL or "info". */
export function createLogger(
  worker: string,
  options: { level?: LogLevel; fields?: LogFields; sink?: (line: string) => void } = {},
): Logger {
  const envLevel = Deno.env.get("LOG_LEVEL") as LogLevel | undefined;
  const level: LogLevel = options.level ?? (envLevel && envLevel in ORDER ? envLevel : "info");
  const sink = options.sink ?? ((line: string) => console.error(line));
  const base = options.fields ?? {};
  const write = (lvl: LogLevel, message: string, fields: LogFields = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    sink(JSON.stringify({
      ts: new Date().toISOString(),
      level: lvl,
      worker,
      msg: message,
      ...base,
      ...fields,
    }, jsonSafe));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    alert: (m, f) => write("alert", m, f),
    child: (fields) => createLogger(worker, { level, sink, fields: { ...base, ...fields } }),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return errorChain(value);
  return value;
}

/** Flattens an error and its `cause` chain into plain objects for a log line. */
export function errorChain(error: unknown): Array<{ name: string; message: string }> {
  const chain: Array<{ name: string; message: string }> = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 10) {
    if (current instanceof Error) {
      chain.push({ name: current.name, message: current.message });
      current = current.cause;
    } else {
      chain.push({ name: typeof current, message: String(current) });
      break;
    }
  }
  return chain;
}
