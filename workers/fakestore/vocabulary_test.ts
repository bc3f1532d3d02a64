/** Unit: the word lists the shop draws from hold what the generated records rely on. */
import assert from "node:assert/strict";
import { CATEGORIES, NOUNS, TYPOGRAPHIC_SUFFIXES } from "./vocabulary.ts";

Deno.test("the four categories, with the live API's spelling of jewelery", () => {
  assert.deepEqual(
    [...CATEGORIES].sort(),
    ["electronics", "jewelery", "men's clothing", "women's clothing"],
  );
});

Deno.test("every category has nouns to name its products", () => {
  for (const category of CATEGORIES) assert.ok(NOUNS[category].length > 0, category);
});

Deno.test("the typographic characters the live titles carry are all there", () => {
  const text = TYPOGRAPHIC_SUFFIXES.join("");
  for (const char of ["’", "”", "–"]) assert.ok(text.includes(char), char);
});
