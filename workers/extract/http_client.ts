/**
 * The HTTP boundary: every request to the Fake Store API goes through `getJson`. It retries
 * with back-off (honouring Retry-After), refuses a 200 whose content type or body is not the
 * JSON asked for, and removes every secret-looking field (`password`, `passwd`, `pwd`, `secret`,
 * `token`, `hash` variants) before the body leaves this module, so nothing downstream
 * (validation, hashing, logs, rejects, tables) ever sees one.
 */
import ky, { isForceRetryError, isHTTPError, isNetworkError, isTimeoutError } from "ky";
import { backoffDelay, GaveUpError, type Logger } from "../shared/mod.ts";

/** The request failed for good (retries spent or a status not worth retrying): not retriable. */
export class UpstreamError extends GaveUpError {
  override name = "UpstreamError";
}

/** What the client needs to know about the source and its patience. */
export interface HttpSettings {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
}

/** A usable JSON response. */
export interface JsonResponse {
  /** The URL requested, query included. */
  url: string;
  status: number;
  /** The parsed body, secret-looking keys removed. */
  body: unknown;
  /** Response headers the extractor records (the as-of echo of our own server). */
  headers: Headers;
  attempts: number;
  receivedAt: Date;
  /** Wall time of the request, retries and body included. */
  elapsedMs: number;
}

export interface HttpClient {
  /** GETs `path` (relative to the base URL) and returns its JSON body; `expect` checks its shape. */
  getJson(
    path: string,
    options?: { searchParams?: Record<string, string>; expect?: "array" | "any" },
  ): Promise<JsonResponse>;
}

/** Statuses worth another try: gateway and Cloudflare 52x outages, throttling, timeouts. */
const RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524];

/**
 * Keys that name a secret, in any case: `password`, `passwd`, `pwd`, `passphrase`, `secret`,
 * `token` and `hash` anywhere in the key (`passwordHash`, `api_token`, `client_secret`). No
 * Fake Store product, user or cart field matches (tests/extract/fixtures/fakestore_contract.json).
 */
export const SECRET_KEY_PATTERN: RegExp = /passw(?:or)?d|pwd|passphrase|secret|token|hash/i;

/** Deletes every secret-looking key, at any depth, in place; returns how many it removed. */
export function removeSecrets(value: unknown): number {
  let removed = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else if (typeof current === "object" && current !== null) {
      const record = current as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (SECRET_KEY_PATTERN.test(key)) {
          delete record[key];
          removed++;
        } else {
          stack.push(record[key]);
        }
      }
    }
  }
  return removed;
}

type BodyCheck = { ok: true; body: unknown } | { ok: false; reason: string };

function isJsonContentType(contentType: string | null): boolean {
  const mime = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return mime === "application/json" || /^application\/[\w.+-]+\+json$/.test(mime);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

async function readWithTimeout(response: Response, timeoutMs: number): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([response.text(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a 2xx response: JSON content type, a complete JSON body, of the expected shape.
 * Reasons never quote the body: a body of /users holds passwords.
 */
async function checkBody(
  response: Response,
  expect: "array" | "any",
  timeoutMs: number,
): Promise<BodyCheck> {
  const contentType = response.headers.get("content-type");
  if (!isJsonContentType(contentType)) {
    // Not cancelled here: this is ky's tee'd clone, whose cancel waits for the other branch;
    // ky cancels both when the hook asks for a retry.
    return { ok: false, reason: `content type ${contentType ?? "(none)"} instead of JSON` };
  }
  const text = await readWithTimeout(response, timeoutMs);
  if (text === undefined) {
    return { ok: false, reason: `body not received within ${timeoutMs} ms` };
  }
  if (text.trim() === "") return { ok: false, reason: "empty body" };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // The SyntaxError's message quotes the text around the error: never pass it on.
    return { ok: false, reason: `malformed or truncated JSON (${text.length} characters)` };
  }
  if (expect === "array" && !Array.isArray(body)) {
    return { ok: false, reason: `JSON body is ${describeValue(body)}, expected an array` };
  }
  return { ok: true, body };
}

function attemptsText(attempts: number): string {
  return `${attempts} attempt${attempts === 1 ? "" : "s"}`;
}

/** The innermost message of a network error's cause chain ("... Connection refused ..."). */
function networkCause(error: Error): string {
  let message = "network error";
  let current: unknown = error.cause;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    message = current.message;
    current = current.cause;
  }
  return message;
}

/** A short, body-free message for a 4xx/5xx: the API's own `message` field when it has one. */
function serverMessage(data: unknown): string {
  if (typeof data === "object" && data !== null && "message" in data) {
    const message = (data as { message: unknown }).message;
    if (typeof message === "string") return `: ${message.slice(0, 200)}`;
  }
  return "";
}

/** Creates the client for `settings`; `headers` go with every request (as-of, test faults). */
export function createHttpClient(
  settings: HttpSettings,
  options: { logger: Logger; headers?: Record<string, string>; fetch?: typeof fetch },
): HttpClient {
  const base = settings.baseUrl.endsWith("/") ? settings.baseUrl : `${settings.baseUrl}/`;
  const baseFetch = options.fetch ?? globalThis.fetch;
  const logger = options.logger;
  const backoff = { initialMs: settings.backoffMs, maxMs: settings.backoffMaxMs };

  return {
    async getJson(path, request = {}) {
      const url = new URL(path.replace(/^\/+/, ""), base);
      for (const [key, value] of Object.entries(request.searchParams ?? {})) {
        url.searchParams.set(key, value);
      }
      const expect = request.expect ?? "any";
      const started = performance.now();
      let attempts = 0;
      let lastReason = "";
      let lastStatus = 0;
      let checked: unknown;
      const countingFetch: typeof fetch = (input, init) => {
        attempts++;
        return baseFetch(input, init);
      };
      try {
        const response = await ky.get(url, {
          fetch: countingFetch,
          headers: { accept: "application/json", ...options.headers },
          timeout: settings.timeoutMs,
          retry: {
            limit: settings.retries,
            methods: ["get"],
            statusCodes: RETRY_STATUS_CODES,
            afterStatusCodes: [413, 429, 503],
            maxRetryAfter: settings.maxRetryAfterMs,
            delay: (retry) => backoffDelay(retry, backoff),
            retryOnTimeout: true,
          },
          hooks: {
            afterResponse: [
              async ({ response }) => {
                lastStatus = response.status;
                if (!response.ok) return;
                const check = await checkBody(response, expect, settings.timeoutMs);
                if (!check.ok) {
                  lastReason = check.reason;
                  return ky.retry({ code: "UNUSABLE_BODY" });
                }
                checked = check.body;
              },
            ],
            beforeRetry: [
              ({ error, retryCount }) => {
                const reason = isForceRetryError(error)
                  ? `HTTP ${lastStatus} with ${lastReason}`
                  : isHTTPError(error)
                  ? `HTTP ${error.response.status}`
                  : isTimeoutError(error)
                  ? `no response within ${settings.timeoutMs} ms`
                  : isNetworkError(error)
                  ? `network error: ${networkCause(error)}`
                  : (error as Error).message;
                logger.warn("Retrying request", {
                  url: url.href,
                  attempt: retryCount + 1,
                  of: settings.retries + 1,
                  reason,
                });
              },
            ],
          },
        });
        // The body was read and checked on the hook's clone; the original is not needed.
        await response.body?.cancel();
        const removed = removeSecrets(checked);
        if (removed > 0) logger.debug("Removed secrets at the HTTP boundary", { removed });
        return {
          url: url.href,
          status: response.status,
          body: checked,
          headers: response.headers,
          attempts,
          receivedAt: new Date(),
          elapsedMs: Math.round(performance.now() - started),
        };
      } catch (error) {
        throw new UpstreamError(failureMessage(url.href, error), { cause: withoutBody(error) });
      }

      function failureMessage(href: string, error: unknown): string {
        const tries = attemptsText(attempts);
        if (isForceRetryError(error)) {
          return `GET ${href} answered HTTP ${lastStatus} with ${lastReason} (${tries})`;
        }
        if (isHTTPError(error)) {
          return `GET ${href} failed with HTTP ${error.response.status}` +
            `${serverMessage(error.data)} (${tries})`;
        }
        if (isTimeoutError(error)) {
          return `GET ${href} got no response within ${settings.timeoutMs} ms (${tries})`;
        }
        if (isNetworkError(error)) {
          return `GET ${href} could not be reached: ${networkCause(error)} (${tries})`;
        }
        return `GET ${href} failed: ${(error as Error).message} (${tries})`;
      }
    },
  };
}

/** Drops a ky HTTPError's parsed body so it cannot reach a log line through `cause`. */
function withoutBody(error: unknown): unknown {
  if (isHTTPError(error)) error.data = undefined;
  return error;
}
