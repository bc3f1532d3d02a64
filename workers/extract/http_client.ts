/**
 * The HTTP boundary: every request to the Fake Store API goes through `openArray`. It retries
 * with back-off (honouring Retry-After), refuses a 200 whose content type or body is not the
 * JSON array asked for, streams the array element by element within byte limits and a stall
 * timeout (json_array_stream.ts), and removes every secret-looking field (`password`, `passwd`,
 * `pwd`, `secret`, `token`, `hash` variants) from each element before it leaves this module, so
 * nothing downstream (validation, hashing, logs, rejects, tables) ever sees one.
 */
import ky, { isForceRetryError, isHTTPError, isNetworkError, isTimeoutError } from "ky";
import { backoffDelay, GaveUpError, type Logger, RetriableError } from "../shared/mod.ts";
import {
  DEFAULT_MAX_ELEMENT_BYTES,
  DEFAULT_MAX_RESPONSE_BYTES,
  jsonArrayElements,
  JsonStreamError,
} from "./json_array_stream.ts";

/** The request failed for good (retries spent or a status not worth retrying): not retriable. */
export class UpstreamError extends GaveUpError {
  override name = "UpstreamError";
}

/** The body broke off or stalled after part of it was used: a new request may well succeed. */
export class BodyReadError extends RetriableError {
  override name = "BodyReadError";
}

/** The environment variable that sets each limit, for error messages. */
const LIMIT_SETTINGS: Partial<Record<string, string>> = {
  "element-limit": "EXTRACT_MAX_ELEMENT_BYTES",
  "response-limit": "EXTRACT_MAX_RESPONSE_BYTES",
};

/** A stream error's message, with the setting that raises the limit it broke. */
function streamProblem(error: JsonStreamError): string {
  const setting = LIMIT_SETTINGS[error.problem];
  return setting === undefined ? error.message : `${error.message} (${setting})`;
}

/** What the client needs to know about the source and its patience. */
export interface HttpSettings {
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  backoffMaxMs: number;
  maxRetryAfterMs: number;
  /** Byte limit of one array element (default DEFAULT_MAX_ELEMENT_BYTES). */
  maxElementBytes?: number;
  /** Byte limit of one response body (default DEFAULT_MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/** An open JSON array response: headers in, the first element parsed, the rest still to read. */
export interface ArrayResponse {
  /** The URL requested, query included. */
  url: string;
  status: number;
  /** Response headers the extractor records (the as-of echo of our own server). */
  headers: Headers;
  attempts: number;
  /** When the response was opened (its headers and first element in). */
  receivedAt: Date;
  /**
   * The array's elements, secret-looking keys removed, read from the network as they are
   * iterated (once). A failure now (a stall, a limit, a truncated body) is an UpstreamError
   * naming the URL: too late to retry, part of the body has been used.
   */
  elements: AsyncIterable<unknown>;
  /** Wall time since the request started, retries and the body read so far included. */
  elapsedMs(): number;
  /** Stops reading and releases the connection (when the run ends before the body is used). */
  cancel(): Promise<void>;
  /**
   * Requests the same URL again after this body broke off (a BodyReadError), after a back-off;
   * present only while retries remain (they count across the bodies of one request).
   */
  reopen?: (reason: string) => Promise<ArrayResponse>;
}

export interface HttpClient {
  /** GETs `path` (relative to the base URL), which must answer a JSON array, and opens it. */
  openArray(
    path: string,
    options?: { searchParams?: Record<string, string> },
  ): Promise<ArrayResponse>;
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

function isJsonContentType(contentType: string | null): boolean {
  const mime = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  return mime === "application/json" || /^application\/[\w.+-]+\+json$/.test(mime);
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

  const limits = {
    maxElementBytes: settings.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES,
    maxResponseBytes: settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    readTimeoutMs: settings.timeoutMs,
  };

  return { openArray: (path, request = {}) => open(path, request, 0) };

  /** Opens `path`; `priorAttempts` were spent on earlier bodies that broke off after use. */
  async function open(
    path: string,
    request: { searchParams?: Record<string, string> },
    priorAttempts: number,
  ): Promise<ArrayResponse> {
    const url = new URL(path.replace(/^\/+/, ""), base);
    for (const [key, value] of Object.entries(request.searchParams ?? {})) {
      url.searchParams.set(key, value);
    }
    const started = performance.now();
    let attempts = priorAttempts;
    let lastReason = "";
    let lastStatus = 0;
    let opened:
      | { elements: AsyncGenerator<unknown, void>; first: IteratorResult<unknown, void> }
      | undefined;
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
          limit: settings.retries - priorAttempts,
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
              const contentType = response.headers.get("content-type");
              if (!isJsonContentType(contentType)) {
                // Not cancelled here: this is ky's tee'd clone, whose cancel waits for the
                // other branch; ky cancels both when the hook asks for a retry.
                lastReason = `content type ${contentType ?? "(none)"} instead of JSON`;
                return ky.retry({ code: "UNUSABLE_BODY" });
              }
              // Read up to the first element: until one is used, a bad body is retried.
              const elements = jsonArrayElements(response.body ?? new ReadableStream(), limits);
              try {
                opened = { elements, first: await elements.next() };
              } catch (error) {
                const retriable = error instanceof JsonStreamError &&
                  error.problem !== "element-limit" && error.problem !== "response-limit";
                if (!retriable) throw error;
                lastReason = error.message;
                return ky.retry({ code: "UNUSABLE_BODY" });
              }
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
      // The body is read from the hook's clone; this branch of the tee is not needed.
      void response.body?.cancel().catch(() => undefined);
      if (opened === undefined) throw new Error("the response hook did not open the body");
      const { elements, first } = opened;
      const status = response.status;
      const result: ArrayResponse = {
        url: url.href,
        status,
        headers: response.headers,
        attempts,
        receivedAt: new Date(),
        elements: secretFree(url.href, elements, first, () => `HTTP ${status}`, () => attempts),
        elapsedMs: () => Math.round(performance.now() - started),
        cancel: async () => {
          await elements.return();
        },
      };
      if (attempts <= settings.retries) {
        result.reopen = async (reason) => {
          logger.warn("Retrying request", {
            url: url.href,
            attempt: attempts + 1,
            of: settings.retries + 1,
            reason,
          });
          await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempts, backoff)));
          return open(path, request, attempts);
        };
      }
      return result;
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
      if (error instanceof JsonStreamError) {
        return `GET ${href} answered HTTP ${lastStatus} with ${streamProblem(error)} (${tries})`;
      }
      return `GET ${href} failed: ${(error as Error).message} (${tries})`;
    }
  }

  /** The elements after `first`, each with its secrets removed before it is handed on. */
  async function* secretFree(
    href: string,
    elements: AsyncGenerator<unknown, void>,
    first: IteratorResult<unknown, void>,
    status: () => string,
    attempts: () => number,
  ): AsyncGenerator<unknown, void, undefined> {
    let removed = 0;
    try {
      let next = first;
      while (!next.done) {
        removed += removeSecrets(next.value);
        yield next.value;
        next = await elements.next();
      }
    } catch (error) {
      if (!(error instanceof JsonStreamError)) throw error;
      const message = `GET ${href} answered ${status()} with ${streamProblem(error)} ` +
        `(${attemptsText(attempts())})`;
      const limit = error.problem === "element-limit" || error.problem === "response-limit";
      throw limit ? new UpstreamError(message, { cause: error }) : new BodyReadError(message, {
        cause: error,
      });
    } finally {
      await elements.return();
      if (removed > 0) logger.debug("Removed secrets at the HTTP boundary", { removed, url: href });
    }
  }
}

/** Drops a ky HTTPError's parsed body so it cannot reach a log line through `cause`. */
function withoutBody(error: unknown): unknown {
  if (isHTTPError(error)) error.data = undefined;
  return error;
}
