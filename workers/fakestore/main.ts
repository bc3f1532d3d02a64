/**
 * The offline Fake Store API: answers like fakestoreapi.com (routes, parameters, status codes,
 * quirks) from a deterministic shop whose state is a pure function of (FAKESTORE_SEED,
 * FAKESTORE_SCALE, as-of day). The extractor scrapes it exactly as it would the live API.
 *
 *   deno task fakestore          # FAKESTORE_PORT (3000), FAKESTORE_SEED (42), FAKESTORE_SCALE (1)
 *
 * Routes and the as-of header: workers/fakestore/routes.ts; test faults: faults.ts.
 */
import { z } from "zod";
import { createLogger, intFromEnv, parseConfig, runMain } from "../shared/mod.ts";
import { startServer } from "./server.ts";

const logger = createLogger("fakestore");

const configSchema = z.object({
  FAKESTORE_PORT: intFromEnv(1, 65535).default(3000),
  // Loopback by default; a container sets 0.0.0.0.
  FAKESTORE_HOST: z.string().min(1).default("127.0.0.1"),
  FAKESTORE_SEED: intFromEnv(-2147483648, 2147483647).default(42),
  FAKESTORE_SCALE: intFromEnv(1, 10_000).default(1),
});

async function main(): Promise<void> {
  const config = parseConfig(configSchema);
  const server = startServer({
    seed: config.FAKESTORE_SEED,
    scale: config.FAKESTORE_SCALE,
    port: config.FAKESTORE_PORT,
    hostname: config.FAKESTORE_HOST,
    logger,
  });
  logger.info("Fake Store API listening", {
    url: server.url,
    seed: config.FAKESTORE_SEED,
    scale: config.FAKESTORE_SCALE,
    products: server.shop.productCount,
    users: server.shop.userCount,
  });
  const stopped = Promise.withResolvers<void>();
  const stop = (signal: string) => {
    logger.info("Stopping", { signal });
    server.shutdown().then(() => stopped.resolve(), stopped.reject);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  await stopped.promise;
}

if (import.meta.main) {
  await runMain(logger, main);
}
