/** Unit: the shop's history is a pure function of (seed, scale, as-of day), shaped as documented. */
import assert from "node:assert/strict";
import { dayIndexOf, dayStartMs } from "./calendar.ts";
import { Shop } from "./shop.ts";

const DAY = dayIndexOf(Date.UTC(2026, 10, 20));

Deno.test("history: a pure function of (seed, scale, as-of day) that changes day by day", () => {
  const a = new Shop({ seed: 7, scale: 1 });
  const b = new Shop({ seed: 7, scale: 1 });
  const other = new Shop({ seed: 8, scale: 1 });
  assert.deepEqual(a.products(DAY), b.products(DAY));
  assert.deepEqual(a.users(DAY), b.users(DAY));
  assert.notDeepEqual(a.products(DAY), other.products(DAY));
  for (let d = DAY; d < DAY + 5; d++) {
    const today = new Map(a.products(d).map((p) => [p.id, p.price]));
    const tomorrow = new Map(a.products(d + 1).map((p) => [p.id, p.price]));
    const gone = [...today.keys()].filter((id) => !tomorrow.has(id));
    const added = [...tomorrow.keys()].filter((id) => !today.has(id));
    const repriced = [...today.keys()].filter((id) =>
      tomorrow.has(id) && tomorrow.get(id) !== today.get(id)
    );
    assert.equal(gone.length, 1, "one product disappears a day");
    assert.equal(added.length, 1, "one new product appears a day");
    assert.ok(repriced.length >= 1, "some prices change every day");
    assert.equal(tomorrow.size, 20);
  }
  // Carts are immutable: the same cart whatever later day it is read as of.
  const carts = a.carts({ fromMs: dayStartMs(DAY), toMs: dayStartMs(DAY + 1) }, DAY);
  assert.ok(carts.length >= 1);
  assert.deepEqual(a.cart(carts[0]!.id, DAY + 30), carts[0]);
  assert.equal(a.cart(carts[0]!.id, DAY - 1), null, "not yet dated");
});

Deno.test("a record read alone is the record in the list; an unlisted id is null", () => {
  const shop = new Shop({ seed: 42, scale: 2 });
  const products = shop.products(DAY);
  assert.equal(products.length, 40);
  assert.deepEqual(products.map((p) => p.id), [...products.map((p) => p.id)].sort((x, y) => x - y));
  for (const product of products) assert.deepEqual(shop.product(product.id, DAY), product);
  const unlisted = shop.products(DAY - 30).find((p) => shop.product(p.id, DAY) === null);
  assert.ok(unlisted !== undefined, "a product of a month ago is gone today");
  const users = shop.users(DAY);
  assert.deepEqual(users.map((u) => u.id), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(shop.user(7, DAY), users[6]);
  assert.equal(shop.user(21, DAY), null);
  assert.equal(shop.product(0, DAY), null);
  assert.equal(shop.cart(0, DAY), null);
});

Deno.test("carts: at least s a day, dated in the range asked, never by the users who never buy", () => {
  const shop = new Shop({ seed: 42, scale: 3 });
  const week = { fromMs: dayStartMs(DAY - 6), toMs: dayStartMs(DAY + 1) };
  const carts = shop.carts(week, DAY);
  assert.ok(carts.length >= 7 * 3, `${carts.length} carts in a week at scale 3`);
  assert.deepEqual(carts.map((c) => c.id), [...carts.map((c) => c.id)].sort((x, y) => x - y));
  for (const cart of carts) {
    const at = Date.parse(cart.date);
    assert.ok(at >= week.fromMs && at < week.toMs, cart.date);
    assert.ok(![5, 6, 7, 9, 0].includes(cart.userId % 10), `user ${cart.userId} never buys`);
    assert.ok(cart.products.length >= 1);
    assert.equal(new Set(cart.products.map((line) => line.productId)).size, cart.products.length);
  }
  const buyer = carts[0]!.userId;
  assert.deepEqual(
    shop.carts(week, DAY, { userId: buyer }),
    carts.filter((c) => c.userId === buyer),
  );
  assert.deepEqual(shop.carts(week, DAY - 7), [], "nothing dated after the as-of day");
});

Deno.test("scale must be a positive integer", () => {
  assert.throws(() => new Shop({ seed: 1, scale: 0 }), {
    name: "RangeError",
    message: "Scale must be a positive integer, got 0",
  });
  assert.throws(() => new Shop({ seed: 1, scale: 1.5 }), RangeError);
});
