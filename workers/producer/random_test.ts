import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { Random } from "./random.ts";

const draws = (random: Random, n: number) => Array.from({ length: n }, () => random.next());

Deno.test("Random: a seed reproduces its sequence; another seed does not", () => {
  assertEquals(draws(new Random("seed-a"), 50), draws(new Random("seed-a"), 50));
  assert(draws(new Random("seed-a"), 1)[0] !== draws(new Random("seed-b"), 1)[0]);
  assert(draws(new Random("x"), 1_000).every((value) => value >= 0 && value < 1));
});

Deno.test("Random: int, pick and chance stay in range and reach both ends", () => {
  const random = new Random("ranges");
  const ints = new Set(Array.from({ length: 2_000 }, () => random.int(3, 7)));
  assertEquals([...ints].sort(), [3, 4, 5, 6, 7]);
  assertEquals(new Set(Array.from({ length: 200 }, () => random.pick(["a", "b"]))).size, 2);
  throws(() => random.pick([]), RangeError);
  assert(Array.from({ length: 100 }, () => random.chance(0)).every((hit) => !hit));
  assert(Array.from({ length: 100 }, () => random.chance(1)).every((hit) => hit));
});

Deno.test("Random: weighted draws follow their weights", () => {
  const random = new Random("weights");
  const counts = { common: 0, rare: 0 };
  for (let i = 0; i < 10_000; i++) counts[random.weighted({ common: 90, rare: 10 })]++;
  assert(counts.rare > 800 && counts.rare < 1_200, `rare drawn ${counts.rare} times of 10000`);
});

Deno.test("Random: uuid() is a version-4 UUID", () => {
  const random = new Random("uuid");
  const ids = Array.from({ length: 100 }, () => random.uuid());
  for (const id of ids) {
    assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
  }
  assertEquals(new Set(ids).size, 100);
});
