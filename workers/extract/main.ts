/**
 * The batch extractor: lands the Fake Store API's products, users and carts for one half-open
 * UTC interval into raw.fakestore_*, with an audit row per run. Same code for our offline server
 * and the live API (FAKESTORE_BASE_URL).
 *
 *   deno task extract --start 2026-11-20 --end 2026-11-21
 *
 * Exit 0 only when the interval landed; 1 when the run failed (the message says what and where);
 * 2 on a usage error.
 */
import {
  ConfigError,
  createLogger,
  createPool,
  errorChain,
  parseConfig,
  runMain,
} from "../shared/mod.ts";
import { parseCli, USAGE } from "./cli.ts";
import { extractConfigSchema } from "./config.ts";
import { asOfHeaders, runExtract } from "./extract_run.ts";
import { createHttpClient } from "./http_client.ts";
import { parseInterval } from "./interval.ts";

const logger = createLogger("extract");

async function main(): Promise<number> {
  let interval;
  try {
    const args = parseCli(Deno.args);
    if (args.help) {
      await Deno.stdout.write(new TextEncoder().encode(USAGE));
      return 0;
    }
    interval = parseInterval(args.start, args.end);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error(error.message, { error: errorChain(error) });
    return 2;
  }
  const config = parseConfig(extractConfigSchema);
  const pool = createPool(config, { applicationName: "extract", max: 2 });
  try {
    const http = createHttpClient({
      baseUrl: config.FAKESTORE_BASE_URL,
      timeoutMs: config.EXTRACT_HTTP_TIMEOUT_MS,
      retries: config.EXTRACT_HTTP_RETRIES,
      backoffMs: config.EXTRACT_HTTP_BACKOFF_MS,
      backoffMaxMs: config.EXTRACT_HTTP_BACKOFF_MAX_MS,
      maxRetryAfterMs: config.EXTRACT_HTTP_MAX_RETRY_AFTER_MS,
      maxElementBytes: config.EXTRACT_MAX_ELEMENT_BYTES,
      maxResponseBytes: config.EXTRACT_MAX_RESPONSE_BYTES,
    }, { logger, headers: asOfHeaders(interval) });
    await runExtract({ pool, http, logger }, {
      interval,
      sourceBaseUrl: config.FAKESTORE_BASE_URL,
    });
    return 0;
  } finally {
    await pool.end();
  }
}

if (import.meta.main) {
  await runMain(logger, main);
}
