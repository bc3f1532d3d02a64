import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { storable } from "./rejects.ts";

Deno.test("storable replaces what PostgreSQL text cannot hold and keeps the rest", () => {
  assertEquals(storable("a\u0000b"), "a\uFFFDb");
  assertEquals(storable("lone \uD800 surrogate"), "lone \uFFFD surrogate");
  assertEquals(storable("pair 😀 kept, ä too"), "pair 😀 kept, ä too");
});
