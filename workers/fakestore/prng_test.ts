/** Unit: the hash-based randomness every generated record is drawn from. */
import assert from "node:assert/strict";
import { hash32, Stream, unit } from "./prng.ts";

Deno.test("hash32 is a fixed function of its inputs: the shop's past days depend on it", () => {
  // Values pinned when the shop was generated: a change here changes every record served.
  assert.equal(hash32(42, 1), 2797240266);
  assert.equal(hash32(42, 1, 2, 3), 1333843488);
  assert.equal(hash32(0, 0), 937260802);
  assert.equal(hash32(42, 1, 0, 0), hash32(42, 1), "missing coordinates are zeros");
});

Deno.test("hash32 separates seeds, coordinates and their order", () => {
  const seen = new Set([
    hash32(1, 1, 2, 3),
    hash32(2, 1, 2, 3),
    hash32(1, 2, 1, 3),
    hash32(1, 3, 2, 1),
    hash32(1, 1, 3, 2),
  ]);
  assert.equal(seen.size, 5);
  for (const value of seen) assert.ok(Number.isInteger(value) && value >= 0 && value < 2 ** 32);
});

Deno.test("unit lies in [0, 1) and spreads evenly", () => {
  const buckets = new Array<number>(10).fill(0);
  for (let id = 0; id < 20_000; id++) {
    const value = unit(7, id, 3);
    assert.ok(value >= 0 && value < 1, `unit(7, ${id}, 3) = ${value}`);
    buckets[Math.floor(value * 10)]!++;
  }
  // 2,000 expected per bucket; 10 % either way is far beyond chance for a well-mixed hash.
  for (const count of buckets) assert.ok(count > 1_800 && count < 2_200, String(buckets));
});

Deno.test("a Stream repeats exactly from the same seed and differs from another", () => {
  const draw = (seed: number) => {
    const stream = new Stream(seed);
    return Array.from({ length: 5 }, () => stream.next());
  };
  assert.deepEqual(draw(99), draw(99));
  assert.notDeepEqual(draw(99), draw(100));
  assert.equal(new Stream(hash32(42, 7)).next(), 0.23360228561796248, "pinned like hash32");
});

Deno.test("int covers both bounds and nothing outside them", () => {
  const stream = new Stream(5);
  const seen = new Set<number>();
  for (let i = 0; i < 1_000; i++) seen.add(stream.int(1, 6));
  assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6]);
});

Deno.test("pick takes an element, refuses an empty list; chance(0) never, chance(1) always", () => {
  const stream = new Stream(11);
  const items = ["a", "b", "c"] as const;
  for (let i = 0; i < 50; i++) assert.ok(items.includes(stream.pick(items)));
  assert.throws(() => stream.pick([]), { name: "RangeError", message: /empty list/ });
  for (let i = 0; i < 50; i++) {
    assert.equal(stream.chance(0), false);
    assert.equal(stream.chance(1), true);
  }
});
