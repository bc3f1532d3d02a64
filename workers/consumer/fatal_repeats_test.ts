import assert from "node:assert/strict";
import { FatalRepeats } from "./fatal_repeats.ts";

const at = { topic: "order_events", partition: 2, offset: 40, message: "boom" };

Deno.test("the same fatal error at one offset alerts from the threshold on", () => {
  const repeats = new FatalRepeats(3);
  assert.equal(repeats.record(at), undefined);
  assert.equal(repeats.record(at), undefined);
  assert.deepEqual(repeats.record(at), { ...at, count: 3 });
  assert.equal(repeats.record(at)?.count, 4);
});

Deno.test("another offset, another message or a landed batch starts the count again", () => {
  const repeats = new FatalRepeats(2);
  repeats.record(at);
  assert.equal(repeats.record({ ...at, offset: 41 }), undefined);
  assert.equal(repeats.record({ ...at, offset: 41, message: "other" }), undefined);
  repeats.clear("order_events", 2);
  assert.equal(repeats.record({ ...at, offset: 41, message: "other" }), undefined);
  assert.equal(repeats.record({ ...at, partition: 3 }), undefined, "partitions count apart");
  assert.throws(() => new FatalRepeats(0), /positive integer, got 0/);
});
