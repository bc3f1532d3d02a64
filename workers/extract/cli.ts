/** The command line: `--start`, `--end`, `--help`. Settings come from the environment. */
import { parseArgs } from "node:util";
import { ConfigError } from "../shared/mod.ts";

export const USAGE = `Usage: deno task extract --start START --end END

Extracts the Fake Store API's products, users (without passwords) and carts for the half-open
UTC interval [START, END) into raw.fakestore_* and records the run in audit.extract_runs.

  --start   first instant, inclusive: YYYY-MM-DD (UTC midnight) or ISO-8601 with a zone
  --end     end instant, exclusive, after --start
  --help    show this help

Products and users are snapshots as of END's previous day (sent as X-Fakestore-As-Of; the live
API ignores it); carts are those dated in [START, END). Re-running an interval replaces its rows.

Environment: FAKESTORE_BASE_URL (default http://127.0.0.1:3000), PGHOST, PGPORT, PGDATABASE,
PGUSER/PGPASSWORD (the loader role), EXTRACT_HTTP_TIMEOUT_MS, EXTRACT_HTTP_RETRIES,
EXTRACT_HTTP_BACKOFF_MS, EXTRACT_HTTP_BACKOFF_MAX_MS, EXTRACT_HTTP_MAX_RETRY_AFTER_MS, LOG_LEVEL.

Example: deno task extract --start 2026-11-20 --end 2026-11-21
Exit status: 0 when the interval landed, 1 when the run failed, 2 on a usage error.
`;

/** What the command line asked for. */
export interface CliArgs {
  help: boolean;
  start: string | undefined;
  end: string | undefined;
}

/** Parses `args`; unknown flags and stray arguments are a ConfigError. */
export function parseCli(args: string[]): CliArgs {
  try {
    const { values } = parseArgs({
      args,
      options: {
        start: { type: "string" },
        end: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    return { help: values.help ?? false, start: values.start, end: values.end };
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (see --help)`, { cause: error });
  }
}
