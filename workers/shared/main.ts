/**
 * The one top-level handler: runs a worker's main function, logs the whole cause chain of a
 * failure and exits non-zero, so that Airflow, compose and the stack manager see it.
 */
import { errorChain, type Logger } from "./log.ts";

/** Runs `main`; exit code 0 on success (or the number it returns), 1 on any thrown error. */
export async function runMain(logger: Logger, main: () => Promise<number | void>): Promise<never> {
  try {
    const code = await main();
    Deno.exit(code ?? 0);
  } catch (error) {
    const chain = errorChain(error);
    logger.error(chain[0]?.message ?? "Unknown failure", { error: chain });
    Deno.exit(1);
  }
}
