/** Unit: the payload hash is the sha256 of canonical (sorted-key) JSON. */
import assert from "node:assert/strict";
import { canonicalJson, payloadHash } from "./payload_hash.ts";

Deno.test("the payload hash is the sha256 of sorted-key JSON: independent of key order", () => {
  const a = { b: 1, a: { d: [1, { y: 2, x: 1 }], c: "é " } };
  const b = { a: { c: "é ", d: [1, { x: 1, y: 2 }] }, b: 1 };
  assert.equal(canonicalJson(a), '{"a":{"c":"é ","d":[1,{"x":1,"y":2}]},"b":1}');
  assert.equal(payloadHash(a), payloadHash(b));
  assert.match(payloadHash(a), /^[0-9a-f]{64}$/);
  assert.notEqual(payloadHash({ price: 22.3 }), payloadHash({ price: 22.31 }));
  // A key named __proto__ stays an ordinary key.
  assert.equal(
    canonicalJson(JSON.parse('{"__proto__":{"z":1},"a":1}')),
    '{"__proto__":{"z":1},"a":1}',
  );
});

Deno.test("the hash is sha256 hex of the canonical text, byte for byte", () => {
  // sha256 of the UTF-8 text {"a":1,"b":[true,null,"x"]}, computed outside this code.
  assert.equal(
    payloadHash({ b: [true, null, "x"], a: 1 }),
    "eca8cfb31ab74533e1eb2f4c74d2d55dfe3c79ac704787e54be8647ea7777eb1",
  );
});

Deno.test("a value that is not JSON cannot be hashed", () => {
  assert.throws(() => payloadHash(undefined), /Cannot hash a value that is not JSON/);
  assert.throws(() => canonicalJson(() => 1), TypeError);
});
