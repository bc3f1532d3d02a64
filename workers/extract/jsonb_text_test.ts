import assert from "node:assert/strict";
import { jsonbRefuses, jsonbSafe, textSafe } from "./jsonb_text.ts";

Deno.test("jsonbRefuses finds U+0000 and lone surrogates, not escaped backslashes or pairs", () => {
  assert.equal(jsonbRefuses(JSON.stringify({ name: "a\u0000b" })), true);
  assert.equal(jsonbRefuses(JSON.stringify({ name: "x\ud800" })), true);
  assert.equal(jsonbRefuses(JSON.stringify(["\udfff"])), true);
  assert.equal(jsonbRefuses(JSON.stringify({ ["k\u0000"]: 1 })), true);
  // A literal backslash followed by "u0000" is text, and a surrogate pair is a character.
  assert.equal(jsonbRefuses(JSON.stringify({ name: "\\u0000 \\ud800" })), false);
  assert.equal(jsonbRefuses(JSON.stringify({ name: "\ud83d\ude00 caf\u00e9" })), false);
  assert.equal(jsonbRefuses(JSON.stringify({ name: "\\\u0000" })), true);
});

Deno.test("jsonbSafe replaces only the refused escapes and keeps the JSON valid", () => {
  const json = JSON.stringify({ a: "x\u0000y", b: "\\u0000", c: "\ud800", d: "\\\u0000" });
  const safe = jsonbSafe(json);
  assert.equal(jsonbRefuses(safe), false);
  assert.deepEqual(JSON.parse(safe), { a: "x\ufffdy", b: "\\u0000", c: "\ufffd", d: "\\\ufffd" });
  const clean = JSON.stringify({ a: "caf\u00e9 \ud83d\ude00" });
  assert.equal(jsonbSafe(clean), clean);
});

Deno.test("textSafe replaces U+0000 and lone surrogates, keeps pairs", () => {
  assert.equal(textSafe("a\u0000b\ud800c\udfff"), "a\ufffdb\ufffdc\ufffd");
  assert.equal(textSafe("\ud83d\ude00 ok"), "\ud83d\ude00 ok");
});
