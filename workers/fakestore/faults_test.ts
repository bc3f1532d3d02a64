/** Unit: test faults asked for by header, counted per (id, kind, path), and the body faults. */
import assert from "node:assert/strict";
import {
  type Fault,
  FaultBook,
  FaultHeaderError,
  mutateBody,
  outagePage,
  parseFault,
} from "./faults.ts";

const ask = (headers: Record<string, string>) => parseFault(new Headers(headers));

Deno.test("no fault header, no fault; the defaults of a bare one", () => {
  assert.equal(ask({}), undefined);
  assert.equal(ask({ "X-Fakestore-Fault": "" }), undefined);
  assert.deepEqual(ask({ "X-Fakestore-Fault": "5xx" }), {
    kind: "5xx",
    id: "default",
    count: 1,
    path: undefined,
    status: 502,
    retryAfterSeconds: 1,
    delayMs: 2000,
  });
});

Deno.test("every knob is read; 'always' never runs out", () => {
  const fault = ask({
    "X-Fakestore-Fault": "429",
    "X-Fakestore-Fault-Id": "t1",
    "X-Fakestore-Fault-Count": "always",
    "X-Fakestore-Fault-Path": "/users",
    "X-Fakestore-Fault-Status": "503",
    "X-Fakestore-Retry-After": "7",
    "X-Fakestore-Fault-Delay-Ms": "10",
  })!;
  assert.equal(fault.count, Number.POSITIVE_INFINITY);
  assert.deepEqual(
    [fault.id, fault.path, fault.status, fault.retryAfterSeconds, fault.delayMs],
    ["t1", "/users", 503, 7, 10],
  );
});

Deno.test("a header the server cannot honour is an error naming it and the value", () => {
  assert.throws(() => ask({ "X-Fakestore-Fault": "explode" }), {
    name: "FaultHeaderError",
    message: /^Unknown X-Fakestore-Fault explode; expected one of 5xx, 429, slow/,
  });
  assert.throws(
    () => ask({ "X-Fakestore-Fault": "5xx", "X-Fakestore-Fault-Status": "404" }),
    new FaultHeaderError("x-fakestore-fault-status must be an integer in [500, 599], got 404"),
  );
  assert.throws(
    () => ask({ "X-Fakestore-Fault": "5xx", "X-Fakestore-Fault-Count": "2.5" }),
    /x-fakestore-fault-count must be an integer in \[0, 1000000\], got 2.5/,
  );
});

const fault = (overrides: Partial<Fault> = {}): Fault => ({
  kind: "5xx",
  id: "a",
  count: 2,
  path: undefined,
  status: 502,
  retryAfterSeconds: 1,
  delayMs: 0,
  ...overrides,
});

Deno.test("a fault fires N times, then never, counted per id", () => {
  const book = new FaultBook();
  const fires = (f: Fault, path = "/products") =>
    Array.from({ length: 4 }, () => book.take(f, path));
  assert.deepEqual(fires(fault()), [true, true, false, false]);
  assert.deepEqual(fires(fault({ id: "b" })), [true, true, false, false], "another id starts anew");
  assert.deepEqual(fires(fault({ id: "c", count: 0 })), [false, false, false, false]);
  assert.deepEqual(fires(fault({ id: "d", count: Infinity })), [true, true, true, true]);
});

Deno.test("a path-scoped fault spares other paths and does not count them", () => {
  const book = new FaultBook();
  const onUsers = fault({ path: "/users", count: 1 });
  assert.equal(book.take(onUsers, "/products"), false);
  assert.equal(book.take(onUsers, "/users"), true);
  assert.equal(book.take(onUsers, "/users"), false);
});

Deno.test("missing-field drops one required field of the first record, on a copy", () => {
  const products = [{ id: 1, price: 9.5 }, { id: 2, price: 3 }];
  assert.deepEqual(mutateBody("missing-field", products), [{ id: 1 }, { id: 2, price: 3 }]);
  assert.deepEqual(products[0], { id: 1, price: 9.5 }, "the body given is not changed");
  assert.deepEqual(mutateBody("missing-field", [{ id: 3, username: "x" }]), [{ id: 3 }]);
  assert.deepEqual(mutateBody("missing-field", { id: 4, date: "d" }), { id: 4 });
  assert.deepEqual(mutateBody("missing-field", [{ id: 5, other: 1 }]), [{ other: 1 }]);
});

Deno.test("extra-field adds a field the schema does not know, by entity", () => {
  assert.deepEqual(mutateBody("extra-field", [{ price: 1 }, { username: "u" }, { userId: 2 }]), [
    { price: 1, stock: 17 },
    { username: "u", loyaltyTier: "silver" },
    { userId: 2, status: "open" },
  ]);
  assert.deepEqual(mutateBody("extra-field", [null, 3]), [null, 3], "non-records are left alone");
});

Deno.test("the outage page is HTML naming its status", () => {
  const page = outagePage(522);
  assert.match(page, /^<!DOCTYPE html>/);
  assert.match(page, /Error code 522/);
});
