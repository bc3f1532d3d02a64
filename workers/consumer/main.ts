/**
 * The consumer worker's one entry point:
 *
 *   deno task consumer                 main.ts [run]     land order events until SIGTERM
 *   (stack/services.json health)       main.ts health    exit 0 while the group has members
 *   deno task stream:status [--json]   main.ts status    lag, landed rows and dead letters
 *
 * Each command's module is loaded only when it runs: a health check starts fast.
 */
import { createLogger, pickCommand, runMain } from "../shared/mod.ts";

if (import.meta.main) {
  const logger = createLogger("consumer");
  await runMain(logger, async () => {
    const { command, args } = pickCommand(Deno.args, ["run", "health", "status"]);
    switch (command) {
      case "run":
        return (await import("./run.ts")).run(logger);
      case "health":
        return (await import("./health.ts")).health(logger.child({ command }));
      case "status":
        return (await import("./status.ts")).status(createLogger("stream-status"), args);
    }
  });
}
