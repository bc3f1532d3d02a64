/**
 * Unit: the JSON array stream adapter on in-memory streams: every chunk boundary, nesting,
 * escapes and multi-byte UTF-8 split across chunks, the shape check, both byte limits and a
 * read that never delivers (a short real timeout: no network, well under a second).
 */
import assert from "node:assert/strict";
import {
  type ArrayStreamLimits,
  jsonArrayElements,
  JsonStreamError,
  type JsonStreamProblem,
} from "./json_array_stream.ts";

const LIMITS: ArrayStreamLimits = {
  maxElementBytes: 1024,
  maxResponseBytes: 64 * 1024,
  readTimeoutMs: 1000,
};

/** A stream that delivers `chunks` and ends. */
function streamOf(...chunks: Array<Uint8Array | string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      controller.close();
    },
  });
}

async function collect(
  body: ReadableStream<Uint8Array>,
  limits: Partial<ArrayStreamLimits> = {},
): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const element of jsonArrayElements(body, { ...LIMITS, ...limits })) out.push(element);
  return out;
}

async function problemOf(
  body: ReadableStream<Uint8Array>,
  limits: Partial<ArrayStreamLimits> = {},
): Promise<{ problem: JsonStreamProblem; message: string }> {
  const error = await collect(body, limits).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof JsonStreamError, `expected a JsonStreamError, got ${String(error)}`);
  return { problem: error.problem, message: error.message };
}

const ELEMENTS = [
  { id: 1, title: 'say "hi" \\ back', nested: { list: [1, [2, { deep: null }]], ok: true } },
  [],
  { id: 2, city: "Zürich", emoji: "😀 ☃", escaped: "\u00e9\n\t\u2028" },
  "a string element",
  -12.5e3,
  false,
  null,
];

Deno.test("elements come out whole wherever the chunks split the bytes", async () => {
  const bytes = new TextEncoder().encode(` ${JSON.stringify(ELEMENTS, null, 1)}\n`);
  // Every two-chunk split, so each boundary falls once inside each token and each UTF-8 sequence.
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got = await collect(streamOf(bytes.slice(0, cut), bytes.slice(cut)));
    assert.deepEqual(got, ELEMENTS, `split at byte ${cut}`);
  }
  // And one byte per chunk.
  const single = [...bytes].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(await collect(streamOf(...single)), ELEMENTS);
});

Deno.test("an empty array yields nothing; a body that is not an array says what it is", async () => {
  assert.deepEqual(await collect(streamOf("[]")), []);
  for (
    const [body, found] of [
      ["null", "null"],
      ['{"id": 1}', "an object"],
      ['"text"', "a string"],
      ["42 ", "a number"],
      ["true", "a boolean"],
    ]
  ) {
    const { problem, message } = await problemOf(streamOf(body!));
    assert.equal(problem, "not-array", body!);
    assert.equal(message, `JSON body is ${found}, expected an array`);
  }
  assert.equal((await problemOf(streamOf(" \n"))).problem, "empty");
});

Deno.test("truncated or malformed JSON fails without quoting the body", async () => {
  for (const body of ['[{"id":1,"password":"m38r', '[{"id":1}', '[{"id":1} x', '[{"id":1}] {"a"']) {
    const { problem, message } = await problemOf(streamOf(body));
    assert.equal(problem, "malformed", body);
    assert.match(message, /^malformed (or truncated )?JSON \(\d+ bytes\)$/);
  }
});

Deno.test("an element over its limit fails with its index, complete or still arriving", async () => {
  const big = { id: 3, text: "x".repeat(2000) };
  // Inside one chunk: caught at the comma that ends it.
  const whole = await problemOf(streamOf(JSON.stringify([{ id: 1 }, { id: 2 }, big, { id: 4 }])));
  assert.equal(whole.problem, "element-limit");
  assert.match(whole.message, /^element 2 is larger than the limit of 1024 bytes/);
  // Still open across small chunks: caught once it passes the limit, before it ends.
  const text = JSON.stringify([{ id: 1 }, big]);
  const chunks = text.match(/.{1,100}/gs)!;
  let delivered = 0;
  const trickle = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[delivered++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(new TextEncoder().encode(chunk));
    },
  });
  const open = await problemOf(trickle);
  assert.equal(open.problem, "element-limit");
  assert.match(open.message, /^element 1 is larger/);
  assert.ok(delivered < chunks.length, "the read stopped before the element ended");
  // The last element, closed by `]`, is checked too.
  assert.equal((await problemOf(streamOf(JSON.stringify([big])))).problem, "element-limit");
  // At the limit is fine.
  assert.equal(
    (await collect(streamOf(JSON.stringify([big])), { maxElementBytes: 2100 })).length,
    1,
  );
});

Deno.test("a response over its limit fails, counted in bytes as they arrive", async () => {
  const body = JSON.stringify(Array.from({ length: 50 }, (_, id) => ({ id, city: "Zürich" })));
  const bytes = new TextEncoder().encode(body).length;
  const { problem, message } = await problemOf(streamOf(body), { maxResponseBytes: bytes - 1 });
  assert.equal(problem, "response-limit");
  assert.equal(message, `response is larger than the limit of ${bytes - 1} bytes`);
  assert.equal((await collect(streamOf(body), { maxResponseBytes: bytes })).length, 50);
});

Deno.test("a read that never delivers is cancelled after the timeout", async () => {
  let cancelled: unknown = "not cancelled";
  const silent = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('[{"id":1},'));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  const seen: unknown[] = [];
  const started = performance.now();
  const error = await (async () => {
    for await (const element of jsonArrayElements(silent, { ...LIMITS, readTimeoutMs: 50 })) {
      seen.push(element);
    }
  })().then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof JsonStreamError);
  assert.equal(error.problem, "timeout");
  assert.equal(error.message, "body read stalled for 50 ms");
  assert.deepEqual(seen, [{ id: 1 }], "what arrived before the stall was delivered");
  assert.equal(cancelled, undefined, "the stream was cancelled");
  assert.ok(performance.now() - started < 900);
});

Deno.test("a caller that stops early cancels the stream", async () => {
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('[{"id":1},{"id":2},'));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const _ of jsonArrayElements(endless, LIMITS)) break;
  assert.equal(cancelled, true);
});
