import assert from "node:assert/strict";
import { beyondLogEnd } from "./offsets.ts";

const target = { group: "loader", topic: "order_events", partition: 4 };

Deno.test("a stored offset beyond the log end is an error naming all four values", () => {
  const error = beyondLogEnd(target, 5_000, 120);
  assert.ok(error instanceof Error);
  assert.match(error.message, /^Stored offset 5000 of order_events\/4 \(group loader\)/);
  assert.match(error.message, /beyond the log end 120:/);
});

Deno.test("a stored offset at or below the log end is fine", () => {
  assert.equal(beyondLogEnd(target, 120, 120), undefined);
  assert.equal(beyondLogEnd(target, 0, 120), undefined);
});
