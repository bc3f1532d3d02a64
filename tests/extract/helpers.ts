/**
 * Shared set-up of the extract tests: a Fake Store server (the test instance's when
 * FAKESTORE_BASE_URL answers /__health, else one started in-process on a free port), database
 * pools (the loader role for the extractor, the superuser to inspect), and a log capture.
 */
// @ts-types="@types/pg"
import pg from "pg";
import { createLogger, type Logger } from "../../workers/shared/mod.ts";
import { startServer } from "../../workers/fakestore/server.ts";
import { createHttpClient, type HttpClient } from "../../workers/extract/http_client.ts";
import { asOfHeaders } from "../../workers/extract/extract_run.ts";
import type { Interval } from "../../workers/extract/interval.ts";

const env = Deno.env.toObject();
export const DATABASE = env.PGDATABASE ?? env.WAREHOUSE_DB ?? "dev_extract";

/** A base URL of a Fake Store server and how to release it. */
export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** The test instance's server if it is up, else a fresh in-process one (seed 42, scale 1). */
export async function useServer(): Promise<TestServer> {
  const configured = env.FAKESTORE_BASE_URL;
  if (configured && !configured.includes("fakestoreapi.com")) {
    try {
      const response = await fetch(new URL("/__health", configured), {
        signal: AbortSignal.timeout(1000),
      });
      await response.body?.cancel();
      if (response.ok) return { url: configured.replace(/\/$/, ""), close: async () => {} };
    } catch {
      // not running: start our own below
    }
  }
  const server = startServer({ seed: 42, scale: 1, logger: quietLogger() });
  return { url: server.url, close: () => server.shutdown() };
}

/** A logger that writes nothing (server side of in-process tests). */
export function quietLogger(): Logger {
  return createLogger("test", { level: "error", sink: () => {} });
}

/** A logger whose lines are kept in `lines` (debug level: everything the extractor says). */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return {
    logger: createLogger("extract", { level: "debug", sink: (line) => lines.push(line) }),
    lines,
  };
}

/** A pool connected as the loader role: what the extractor uses; `extra` adds settings. */
export function loaderPool(extra: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({
    host: env.PGHOST ?? "127.0.0.1",
    port: Number(env.PGPORT ?? 5432),
    database: DATABASE,
    user: "loader",
    password: env.LOADER_PASSWORD ?? "loader",
    max: 2,
    ...extra,
  });
}

/** A pool connected as the superuser, to inspect and clean up. */
export function adminPool(): pg.Pool {
  return new pg.Pool({
    host: env.PGHOST ?? "127.0.0.1",
    port: Number(env.PGPORT ?? 5432),
    database: DATABASE,
    user: env.POSTGRES_USER ?? "postgres",
    password: env.POSTGRES_PASSWORD ?? "postgres",
    max: 2,
  });
}

/** The day [date, date + 1) as an interval. */
export function day(date: string): Interval {
  const start = new Date(`${date}T00:00:00Z`);
  return { start, end: new Date(start.getTime() + 86_400_000) };
}

/** An HTTP client for a run of `interval`: fast retries, extra (fault) headers. */
export function testClient(
  baseUrl: string,
  options: {
    interval: Interval;
    logger: Logger;
    headers?: Record<string, string>;
    retries?: number;
    timeoutMs?: number;
    /** Stands between the client and the server (to alter what it serves). */
    fetch?: typeof fetch;
  },
): HttpClient {
  return createHttpClient({
    baseUrl,
    timeoutMs: options.timeoutMs ?? 5000,
    retries: options.retries ?? 3,
    backoffMs: 20,
    backoffMaxMs: 200,
    maxRetryAfterMs: 5000,
  }, {
    logger: options.logger,
    headers: { ...asOfHeaders(options.interval), ...options.headers },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** Fault headers for the server, with an id unique to this call. */
export function fault(
  kind: string,
  options: { count?: number | "always"; path?: string; [header: string]: unknown } = {},
): Record<string, string> {
  const headers: Record<string, string> = {
    "X-Fakestore-Fault": kind,
    "X-Fakestore-Fault-Id": crypto.randomUUID(),
    "X-Fakestore-Fault-Count": String(options.count ?? 1),
  };
  if (options.path) headers["X-Fakestore-Fault-Path"] = options.path;
  for (const [key, value] of Object.entries(options)) {
    if (key.startsWith("X-")) headers[key] = String(value);
  }
  return headers;
}

/** GETs `url` as of the day `asOf` and returns the JSON body. */
export async function served(url: string, asOf: string): Promise<unknown> {
  const response = await fetch(url, { headers: { "X-Fakestore-As-Of": asOf } });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return await response.json();
}
