/**
 * The one top-level handler: runs a worker's main function, logs the whole cause chain of a
 * failure and exits non-zero, so that Airflow, compose and the stack manager see it. A worker
 * with several commands (run, health, status) has one entry, `main.ts`, that picks its command
 * with `pickCommand`.
 */
import { ConfigError } from "./errors.ts";
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

/**
 * The command `args` name, and the arguments after it. The first command in `names` is the
 * default: used when `args` is empty or starts with a flag (`main.ts --rate 5` runs).
 */
export function pickCommand<C extends string>(
  args: readonly string[],
  names: readonly [C, ...C[]],
): { command: C; args: string[] } {
  const first = args[0];
  if (first === undefined || first.startsWith("-")) {
    return { command: names[0], args: [...args] };
  }
  if (!(names as readonly string[]).includes(first)) {
    throw new ConfigError(`Unknown command ${JSON.stringify(first)}: expected ${names.join(", ")}`);
  }
  return { command: first as C, args: args.slice(1) };
}
