/** Starts the offline Fake Store API on a port (0 = any free port) and stops it cleanly. */
import type { Logger } from "../shared/mod.ts";
import { createHandler } from "./routes.ts";
import { Shop } from "./shop.ts";

/** A running server: its base URL and how to stop it. */
export interface RunningServer {
  url: string;
  port: number;
  shop: Shop;
  shutdown(): Promise<void>;
}

/** Serves the shop of (seed, scale) on hostname:port until `shutdown()`. */
export function startServer(
  options: {
    seed: number;
    scale: number;
    logger: Logger;
    port?: number;
    hostname?: string;
    now?: () => number;
  },
): RunningServer {
  const shop = new Shop({ seed: options.seed, scale: options.scale });
  const handler = createHandler(shop, {
    logger: options.logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve({
    port: options.port ?? 0,
    hostname,
    onListen: () => {},
  }, handler);
  const port = server.addr.port;
  return {
    url: `http://${hostname}:${port}`,
    port,
    shop,
    shutdown: () => server.shutdown(),
  };
}
