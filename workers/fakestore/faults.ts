/**
 * Faults on demand, for tests: a request asks for its own failure with headers, and the server
 * counts how many times it has failed so "fail N times, then succeed" is testable. Counts are
 * kept per (fault id, kind, path), so concurrent tests that use different ids never interfere.
 *
 *   X-Fakestore-Fault:       5xx | 429 | slow | html | truncated | missing-field | extra-field
 *   X-Fakestore-Fault-Id:    any string naming the test (default "default")
 *   X-Fakestore-Fault-Count: how many matching requests fail (default 1; "always" = every one)
 *   X-Fakestore-Fault-Path:  only requests to this path fail, e.g. /users (default: any path)
 *   X-Fakestore-Fault-Status:      status of a 5xx fault (default 502)
 *   X-Fakestore-Retry-After:       seconds sent with a 429 (default 1)
 *   X-Fakestore-Fault-Delay-Ms:    how long a slow response waits before answering (default 2000)
 *
 * The live API ignores these headers; the extractor never sends them outside tests.
 */

export const FAULT_KINDS = [
  "5xx",
  "429",
  "slow",
  "html",
  "truncated",
  "missing-field",
  "extra-field",
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  id: string;
  count: number;
  path: string | undefined;
  status: number;
  retryAfterSeconds: number;
  delayMs: number;
}

/** A fault header the server cannot honour: answered with 400 so a test notices its typo. */
export class FaultHeaderError extends Error {
  override name = "FaultHeaderError";
}

const MAX_TRACKED = 10_000;

function intHeader(headers: Headers, name: string, fallback: number, min: number, max: number) {
  const text = headers.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new FaultHeaderError(`${name} must be an integer in [${min}, ${max}], got ${text}`);
  }
  return value;
}

/** Reads the fault a request asks for, if any. */
export function parseFault(headers: Headers): Fault | undefined {
  const kind = headers.get("x-fakestore-fault");
  if (kind === null || kind === "") return undefined;
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new FaultHeaderError(
      `Unknown X-Fakestore-Fault ${kind}; expected one of ${FAULT_KINDS.join(", ")}`,
    );
  }
  const countText = headers.get("x-fakestore-fault-count");
  const count = countText === "always"
    ? Number.POSITIVE_INFINITY
    : intHeader(headers, "x-fakestore-fault-count", 1, 0, 1_000_000);
  return {
    kind: kind as FaultKind,
    id: headers.get("x-fakestore-fault-id") || "default",
    count,
    path: headers.get("x-fakestore-fault-path") || undefined,
    status: intHeader(headers, "x-fakestore-fault-status", 502, 500, 599),
    retryAfterSeconds: intHeader(headers, "x-fakestore-retry-after", 1, 0, 3600),
    delayMs: intHeader(headers, "x-fakestore-fault-delay-ms", 2000, 0, 600_000),
  };
}

/** Remembers how many more times each (id, kind, path) fault fires. */
export class FaultBook {
  #remaining = new Map<string, number>();

  /** True when this request to `pathname` should fail with `fault` (and counts it). */
  take(fault: Fault, pathname: string): boolean {
    if (fault.path !== undefined && fault.path !== pathname) return false;
    const key = `${fault.id}\u0000${fault.kind}\u0000${fault.path ?? "*"}`;
    let remaining = this.#remaining.get(key);
    if (remaining === undefined) {
      remaining = fault.count;
      if (this.#remaining.size >= MAX_TRACKED) {
        const oldest = this.#remaining.keys().next().value;
        if (oldest !== undefined) this.#remaining.delete(oldest);
      }
    }
    const fire = remaining > 0;
    this.#remaining.set(key, fire ? remaining - 1 : 0);
    return fire;
  }
}

/** The field a `missing-field` fault removes: one each models depend on. */
const REQUIRED_FIELD_TO_DROP = ["price", "username", "date"] as const;

/** The field an `extra-field` fault adds, per entity (recognised by a field it has). */
function extraFieldFor(record: Record<string, unknown>): [string, unknown] {
  if ("price" in record) return ["stock", 17];
  if ("username" in record) return ["loyaltyTier", "silver"];
  if ("userId" in record) return ["status", "open"];
  return ["extra", true];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Applies a body fault (`missing-field`, `extra-field`) to a JSON body; returns the new body. */
export function mutateBody(kind: "missing-field" | "extra-field", body: unknown): unknown {
  const records = Array.isArray(body) ? body : [body];
  const copies = records.map((record) => (isRecord(record) ? structuredClone(record) : record));
  if (kind === "missing-field") {
    const first = copies.find(isRecord);
    if (first) {
      const field = REQUIRED_FIELD_TO_DROP.find((name) => name in first) ?? "id";
      delete first[field];
    }
  } else {
    for (const record of copies) {
      if (!isRecord(record)) continue;
      const [name, value] = extraFieldFor(record);
      record[name] = value;
    }
  }
  return Array.isArray(body) ? copies : copies[0];
}

/** A Cloudflare-style outage page, served in place of JSON. */
export function outagePage(status: number): string {
  return `<!DOCTYPE html>
<html lang="en-US"><head><title>fakestoreapi.com | ${status}: Bad gateway</title></head>
<body><h1>Bad gateway</h1><p>Error code ${status}</p><p>The web server reported a bad gateway error.</p></body></html>
`;
}
