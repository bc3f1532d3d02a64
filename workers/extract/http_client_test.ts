/**
 * Unit: the HTTP boundary's retries, back-off, Retry-After, timeouts and body checks, on a
 * scripted fetch under fake timers (@sinonjs/fake-timers: no real waiting, exact delays).
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { createLogger, isRetriable } from "../shared/mod.ts";
import { BodyReadError, createHttpClient, removeSecrets, UpstreamError } from "./http_client.ts";

type Step = Response | "hang" | Error;

/** A debug-level logger whose lines are kept, to check what a retry says. */
function capturingLogger() {
  const lines: string[] = [];
  return {
    logger: createLogger("extract", { level: "debug", sink: (line) => lines.push(line) }),
    lines,
  };
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
const html = (status: number) =>
  new Response("<!DOCTYPE html><title>522</title>", {
    status,
    headers: { "content-type": "text/html" },
  });
const USERS = [{ id: 1, username: "johnd", password: "m38rmF$", address: { password: "inner" } }];

/** Runs one openArray against `steps` (one per attempt) under fake timers; reads the body. */
async function scripted(
  steps: Step[],
  options: Partial<
    { retries: number; timeoutMs: number; maxRetryAfterMs: number; maxElementBytes: number }
  > = {},
) {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"], now: 0 });
  const calls: number[] = [];
  const { logger, lines } = capturingLogger();
  const fakeFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls.push(clock.now);
    const step = steps[Math.min(calls.length - 1, steps.length - 1)]!;
    if (step === "hang") {
      const signal = (input instanceof Request ? input.signal : undefined) ?? init?.signal;
      return new Promise((_, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason));
      });
    }
    if (step instanceof Error) return Promise.reject(step);
    return Promise.resolve(step.clone());
  };
  const client = createHttpClient({
    baseUrl: "http://fakestore.test/",
    timeoutMs: options.timeoutMs ?? 1000,
    retries: options.retries ?? 3,
    backoffMs: 100,
    backoffMaxMs: 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    ...(options.maxElementBytes ? { maxElementBytes: options.maxElementBytes } : {}),
  }, { logger, fetch: fakeFetch as typeof fetch });
  try {
    const pending = client.openArray("/users").then(async (response) => {
      const body: unknown[] = [];
      for await (const element of response.elements) body.push(element);
      return { ...response, body };
    });
    const outcome = pending.then(
      (value) => ({ value, error: undefined as unknown }),
      (error: unknown) => ({ value: undefined, error }),
    );
    await clock.runAllAsync();
    return { ...(await outcome), calls, lines };
  } finally {
    clock.uninstall();
  }
}

Deno.test("5xx is retried with exponential back-off, then succeeds", async () => {
  const { value, calls } = await scripted([html(502), html(503), json(USERS)]);
  assert.deepEqual(calls, [0, 100, 300]);
  assert.equal(value?.attempts, 3);
  assert.equal(value?.status, 200);
});

Deno.test("429 waits as long as Retry-After says, not the back-off", async () => {
  const { value, calls } = await scripted([json({}, 429, { "retry-after": "7" }), json(USERS)]);
  assert.deepEqual(calls, [0, 7000]);
  assert.equal(value?.attempts, 2);
});

Deno.test("Retry-After beyond the cap waits only the cap", async () => {
  const { calls } = await scripted([json({}, 429, { "retry-after": "3600" }), json(USERS)], {
    maxRetryAfterMs: 2500,
  });
  assert.deepEqual(calls, [0, 2500]);
});

Deno.test("a request with no answer times out and is retried", async () => {
  const { value, calls } = await scripted(["hang", json(USERS)], { timeoutMs: 1000 });
  assert.deepEqual(calls, [0, 1100]);
  assert.equal(value?.attempts, 2);
});

Deno.test("network errors are retried", async () => {
  const refused = new TypeError("error sending request for url (http://fakestore.test/users)");
  const { value, calls } = await scripted([refused, json(USERS)]);
  assert.deepEqual(calls, [0, 100]);
  assert.equal(value?.attempts, 2);
});

Deno.test("a 200 with an HTML page or truncated JSON is not success: retried", async () => {
  const truncated = new Response('[{"id":1,"username":"johnd","password":"m38r', {
    headers: JSON_HEADERS,
  });
  const { value, calls, lines } = await scripted([html(200), truncated, json(USERS)]);
  assert.equal(calls.length, 3);
  assert.equal(value?.attempts, 3);
  const retries = lines.filter((line) => line.includes("Retrying request"));
  assert.equal(retries.length, 2);
  assert.match(retries[0]!, /content type text\/html instead of JSON/);
  assert.match(retries[1]!, /malformed or truncated JSON/);
  assert.equal(lines.join("\n").includes("m38r"), false, "no body text in the logs");
});

Deno.test("retries spent: a clear error naming the URL, the status and the attempts", async () => {
  const { error, calls } = await scripted([html(502)], { retries: 2 });
  assert.ok(error instanceof UpstreamError);
  assert.equal(calls.length, 3);
  assert.equal(
    error.message,
    "GET http://fakestore.test/users failed with HTTP 502 (3 attempts)",
  );
});

Deno.test("a body that stays unusable fails without quoting it", async () => {
  const truncated = new Response('[{"id":1,"password":"m38rmF$"', { headers: JSON_HEADERS });
  const { error } = await scripted([truncated], { retries: 1 });
  assert.ok(error instanceof UpstreamError);
  assert.match(
    error.message,
    /GET http:\/\/fakestore.test\/users answered HTTP 200 with malformed or truncated JSON \(\d+ bytes\) \(2 attempts\)/,
  );
  assert.equal(String(error.message).includes("m38rmF$"), false);
});

Deno.test("4xx is not retried; the API's message is kept", async () => {
  const bad = json({ status: "error", message: "date format is not correct" }, 400);
  const { error, calls } = await scripted([bad]);
  assert.equal(calls.length, 1);
  assert.match(
    (error as Error).message,
    /failed with HTTP 400: date format is not correct \(1 attempt\)/,
  );
});

Deno.test("a failure for good is not retriable: a 400, a 404, spent retries, a refused connection", async () => {
  const refused = new TypeError("error sending request", {
    cause: new Error("tcp connect error: Connection refused (os error 111)"),
  });
  const cases: Array<[string, Step[]]> = [
    ["400", [json({ status: "error", message: "user id should be provided" }, 400)]],
    ["404", [html(404)]],
    ["502 until the retries run out", [html(502)]],
    ["connection refused every time", [refused]],
  ];
  for (const [name, steps] of cases) {
    const { error } = await scripted(steps, { retries: 1 });
    assert.ok(error instanceof UpstreamError, name);
    assert.equal(isRetriable(error), false, `${name}: ${(error as Error).message}`);
  }
});

Deno.test("null or an object where a list is expected is retried, then fails", async () => {
  const { error, calls } = await scripted([json(null)], { retries: 1 });
  assert.equal(calls.length, 2);
  assert.match((error as Error).message, /JSON body is null, expected an array/);
});

Deno.test("a body that stalls after its first element is cancelled: not retried, URL named", async () => {
  const stalled = new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('[{"id":1},{"id":2},'));
      },
    }),
    { headers: JSON_HEADERS },
  );
  const { error, calls } = await scripted([stalled, json(USERS)], { timeoutMs: 1000 });
  assert.equal(calls.length, 1, "part of the body was used: no second request");
  assert.ok(error instanceof BodyReadError);
  assert.equal(isRetriable(error), true, "a later run may succeed");
  assert.equal(
    error.message,
    "GET http://fakestore.test/users answered HTTP 200 with body read stalled for 1000 ms " +
      "(1 attempt)",
  );
});

Deno.test("an element over the limit fails at once, naming the URL, the limit and its index", async () => {
  const big = json([{ id: 1 }, { id: 2, text: "x".repeat(300) }]);
  const { error, calls } = await scripted([big], { maxElementBytes: 200 });
  assert.equal(calls.length, 1, "not retried: the same body would break it again");
  assert.ok(error instanceof UpstreamError);
  assert.match(
    error.message,
    /^GET http:\/\/fakestore.test\/users answered HTTP 200 with element 1 is larger than the limit of 200 bytes .*\(EXTRACT_MAX_ELEMENT_BYTES\)/,
  );
  const first = await scripted([json([{ id: 1, text: "x".repeat(300) }])], {
    maxElementBytes: 200,
  });
  assert.equal(first.calls.length, 1);
  assert.match(
    (first.error as Error).message,
    /answered HTTP 200 with element 0 is larger than the limit of 200 bytes .*\(1 attempt\)$/,
  );
});

Deno.test("passwords are gone from the body the client returns", async () => {
  const { value } = await scripted([json(USERS)]);
  assert.deepEqual(value?.body, [{ id: 1, username: "johnd", address: {} }]);
});

Deno.test("removeSecrets strips every secret-looking key at any depth, whatever its case", () => {
  const body = [
    { id: 1, username: "johnd", password: "m38rmF$", address: { city: "kilcoole" } },
    { nested: { Password: "x", list: [{ password: "y", keep: "z" }] } },
    {
      id: 2,
      passwordHash: "$2b$10$abc",
      auth: { api_token: "t", Client_Secret: "s", PWD: "p", passwd: "q" },
      sessions: [{ refreshToken: "r", hash: "h", ok: true }, [{ userPassphrase: "u", n: 1 }]],
    },
  ];
  assert.equal(removeSecrets(body), 11);
  assert.deepEqual(body, [
    { id: 1, username: "johnd", address: { city: "kilcoole" } },
    { nested: { list: [{ keep: "z" }] } },
    { id: 2, auth: {}, sessions: [{ ok: true }, [{ n: 1 }]] },
  ]);
  assert.equal(removeSecrets(null), 0);
  assert.equal(removeSecrets("password"), 0);
});
