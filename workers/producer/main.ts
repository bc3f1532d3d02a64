/**
 * The event simulator's one entry point:
 *
 *   deno task producer [flags]         main.ts [run] [flags]   send order events (run.ts)
 *   (stack/services.json health)       main.ts health          exit 0 while sends are acked
 *
 * Each command's module is loaded only when it runs: a health check starts fast.
 */
import { createLogger, pickCommand, runMain } from "../shared/mod.ts";

if (import.meta.main) {
  const logger = createLogger("producer");
  await runMain(logger, async () => {
    const { command, args } = pickCommand(Deno.args, ["run", "health"]);
    switch (command) {
      case "run":
        return (await import("./run.ts")).run(logger, args);
      case "health":
        return (await import("./health.ts")).health(logger.child({ command }));
    }
  });
}
