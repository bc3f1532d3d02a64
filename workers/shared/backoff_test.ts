/** Unit: the shared back-off doubles, caps, and jitters only as told. */
import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

Deno.test("the wait doubles with every retry from the initial wait", () => {
  const policy = { initialMs: 100, maxMs: 60_000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy)), [
    100,
    200,
    400,
    800,
    1600,
  ]);
});

Deno.test("the wait never exceeds the cap, however many retries", () => {
  const policy = { initialMs: 250, maxMs: 5_000 };
  assert.equal(backoffDelay(5, policy), 4_000);
  assert.equal(backoffDelay(6, policy), 5_000);
  assert.equal(backoffDelay(1_000, policy), 5_000);
  assert.equal(backoffDelay(Number.MAX_SAFE_INTEGER, policy), 5_000);
});

Deno.test("retry 0 or below waits the initial wait rather than less", () => {
  assert.equal(backoffDelay(0, { initialMs: 100, maxMs: 1_000 }), 100);
  assert.equal(backoffDelay(-3, { initialMs: 100, maxMs: 1_000 }), 100);
});

Deno.test("full jitter draws in [0, the capped wait) from the random source given", () => {
  const policy = { initialMs: 100, maxMs: 1_000, jitter: "full" as const };
  assert.equal(backoffDelay(3, policy, () => 0), 0);
  assert.equal(backoffDelay(3, policy, () => 0.5), 200);
  assert.equal(backoffDelay(3, policy, () => 0.999), 399);
  assert.equal(backoffDelay(10, policy, () => 0.5), 500, "jitter applies after the cap");
});

Deno.test("without jitter the random source is never asked", () => {
  let asked = 0;
  const random = () => {
    asked++;
    return 0.5;
  };
  assert.equal(backoffDelay(2, { initialMs: 100, maxMs: 1_000 }, random), 200);
  assert.equal(backoffDelay(2, { initialMs: 100, maxMs: 1_000, jitter: "none" }, random), 200);
  assert.equal(asked, 0);
});
