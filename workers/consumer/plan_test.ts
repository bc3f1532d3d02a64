import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { validateMessage } from "../shared/mod.ts";
import { classify, type DeadLetter, type InboundMessage, verdictOf, withRefused } from "./plan.ts";

const ORDER = "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f";
const encode = (text: string) => new TextEncoder().encode(text);

/** A message at `offset` carrying a valid event with `eventId` (or `raw` text as it is). */
function message(offset: number, eventId: string | null, raw?: string): InboundMessage {
  const text = raw ?? JSON.stringify({
    schema_version: 1,
    event_id: eventId,
    order_id: ORDER,
    user_id: 1,
    occurred_at: "2026-11-25T10:00:00.000Z",
    event_type: "order_created",
    channel: "web",
  });
  const value = encode(text);
  return {
    offset,
    key: ORDER,
    timestampMs: 1_000 + offset,
    value,
    validation: verdictOf(validateMessage(value, ORDER)),
  };
}

const A = "0b8d5a52-6c3e-4f1a-8b2d-1c3e5f7a9b0d";
const B = "1c9e6b63-7d4f-4a2b-9c3e-2d4f6a8b0c1e";

Deno.test("classify: first of each event_id is valid, repeats are duplicates, invalid ones dead letters", () => {
  const plan = classify([
    message(0, A),
    message(1, null, "not json"),
    message(2, B.toUpperCase()),
    message(3, A),
    message(4, B),
  ]);
  assertEquals(plan.valid.map((row) => [row.offset, row.eventId]), [[0, A], [2, B]]);
  assertEquals(
    plan.inBatchDuplicates.map((row) => row.offset),
    [3, 4],
    "event ids compare lower-cased",
  );
  assertEquals(plan.deadLetters.map((row) => [row.offset, row.errorClass]), [[1, "parse"]]);
  assertEquals(plan.valid[0]!.key, ORDER);
  assertEquals(plan.deadLetters[0]!.timestampMs, 1_001);
});

Deno.test("withRefused: a refused event and its repeats become schema dead letters at their own offsets", () => {
  const plan = classify([message(0, A), message(1, B), message(2, A), message(3, B)]);
  const refusedA: DeadLetter = {
    offset: 0,
    key: ORDER,
    value: null,
    text: "{}",
    errorClass: "schema",
    message: "PostgreSQL refused the event: numeric field overflow (SQLSTATE 22003)",
    timestampMs: 1_000,
  };
  const after = withRefused(plan, new Map([[A, refusedA]]));
  assertEquals(after.deadLetters.map((row) => [row.offset, row.timestampMs]), [[0, 1_000], [
    2,
    1_002,
  ]]);
  assertEquals(after.deadLetters.map((row) => row.message), [refusedA.message, refusedA.message]);
  assertEquals(
    after.inBatchDuplicates.map((row) => row.offset),
    [3],
    "B's repeat stays a duplicate",
  );
  assertEquals(plan.deadLetters, [], "the plan it started from is unchanged");
});
