/**
 * The extractor's settings, parsed once from the environment. It connects with PGUSER and
 * PGPASSWORD: `make extract` sets them to the `loader` role (the only role that may write raw
 * and audit). HTTP settings bound how long a run may wait on the source.
 */
import { z } from "zod";
import { intFromEnv, pgEnv } from "../shared/mod.ts";
import { DEFAULT_MAX_ELEMENT_BYTES, DEFAULT_MAX_RESPONSE_BYTES } from "./json_array_stream.ts";

export const extractConfigSchema = z.object({
  ...pgEnv,
  // Our offline server by default; https://fakestoreapi.com scrapes the live API.
  FAKESTORE_BASE_URL: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:3000"),
  // Per attempt: waiting for the response headers; then for each read of the body (a read that
  // delivers nothing for this long is cancelled).
  EXTRACT_HTTP_TIMEOUT_MS: intFromEnv(100, 600_000).default(15_000),
  // Retries after the first attempt (5xx, 52x, 429, timeouts, network errors, unusable bodies).
  EXTRACT_HTTP_RETRIES: intFromEnv(0, 20).default(4),
  // Back-off: base * 2^(retry-1), capped; a Retry-After header wins (capped too).
  EXTRACT_HTTP_BACKOFF_MS: intFromEnv(1, 60_000).default(500),
  EXTRACT_HTTP_BACKOFF_MAX_MS: intFromEnv(1, 600_000).default(30_000),
  EXTRACT_HTTP_MAX_RETRY_AFTER_MS: intFromEnv(0, 3_600_000).default(120_000),
  // Byte limits, counted as the body arrives: one array element, one whole response.
  EXTRACT_MAX_ELEMENT_BYTES: intFromEnv(1024, 1024 ** 3).default(DEFAULT_MAX_ELEMENT_BYTES),
  EXTRACT_MAX_RESPONSE_BYTES: intFromEnv(1024, 64 * 1024 ** 3).default(DEFAULT_MAX_RESPONSE_BYTES),
});

export type ExtractConfig = Readonly<z.infer<typeof extractConfigSchema>>;
