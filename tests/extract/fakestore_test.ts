/**
 * The offline Fake Store API over HTTP: routes, parameters and status codes, scale 1000
 * generated on demand, as-of, and the faults. The history itself is unit-tested beside the
 * shop (workers/fakestore/shop_test.ts); the live API's shapes in fakestore_contract_test.ts.
 */
import assert from "node:assert/strict";
import { startServer } from "../../workers/fakestore/server.ts";
import { quietLogger } from "./helpers.ts";

type Json = Record<string, unknown>;

async function withServer(
  options: { seed?: number; scale?: number; now?: () => number },
  test: (
    get: (path: string, headers?: Record<string, string>) => Promise<Response>,
    url: string,
  ) => Promise<void>,
): Promise<void> {
  const server = startServer({
    seed: options.seed ?? 7,
    scale: options.scale ?? 1,
    logger: quietLogger(),
    ...(options.now ? { now: options.now } : {}),
  });
  try {
    await test((path, headers = {}) => fetch(`${server.url}${path}`, { headers }), server.url);
  } finally {
    await server.shutdown();
  }
}

const asOf = (date: string) => ({ "X-Fakestore-As-Of": date });

async function body(response: Response): Promise<unknown> {
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  return await response.json();
}

Deno.test("scale 1 has the live API's cardinalities, shapes and quirks", async () => {
  await withServer({}, async (get) => {
    const products = await body(await get("/products", asOf("2026-11-20"))) as Json[];
    const users = await body(await get("/users", asOf("2026-11-20"))) as Json[];
    assert.equal(products.length, 20);
    assert.equal(users.length, 10);
    assert.deepEqual(Object.keys(products[0]!), [
      "id",
      "title",
      "price",
      "description",
      "category",
      "image",
      "rating",
    ]);
    assert.deepEqual(
      new Set(products.map((p) => p.category)),
      new Set(["men's clothing", "jewelery", "electronics", "women's clothing"]),
    );
    assert.ok(products.some((p) => String(p.title).endsWith(" ")), "titles ending in a space");
    assert.ok(products.some((p) => /[’”–]/.test(String(p.title))), "non-ASCII punctuation");
    assert.ok(products.some((p) => Number.isInteger(p.price)), "whole prices as integers");
    assert.ok(products.some((p) => !Number.isInteger(p.price)), "and floats");
    assert.ok(
      products.some((p) => Number.isInteger((p.rating as Json).rate)),
      "an integer rate",
    );
    const user = users[0]!;
    assert.deepEqual(Object.keys(user), [
      "address",
      "id",
      "email",
      "username",
      "password",
      "name",
      "phone",
      "__v",
    ]);
    assert.equal(typeof user.password, "string");
    const lats = users.map((u) => ((u.address as Json).geolocation as Json).lat as string);
    assert.ok(lats.every((lat) => /^-?\d+\.\d{4}$/.test(lat)), "lat is a 4-decimal string");
    assert.ok(lats.some((lat) => lat.endsWith("0")), "with trailing zeros");
    assert.deepEqual(
      (users[0]!.address as Json).geolocation,
      (users[1]!.address as Json).geolocation,
      "users 1 and 2 share geolocation",
    );
    assert.equal(users[0]!.phone, users[1]!.phone);
    const zip = (u: Json) => (u.address as Json).zipcode;
    assert.equal(zip(users[7]!), zip(users[6]!));
    assert.equal(zip(users[8]!), zip(users[6]!));
    const carts = await body(await get("/carts?startdate=2026-11-01&enddate=2026-11-08")) as Json[];
    assert.ok(carts.length >= 7, "a cart a day at least");
    assert.deepEqual(Object.keys(carts[0]!), ["id", "userId", "date", "products", "__v"]);
    assert.match(String(carts[0]!.date), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(carts.every((c) => ![5, 6, 7, 9, 10].includes(c.userId as number)));
    const noCarts = await body(await get("/carts/user/5")) as Json[];
    assert.deepEqual(noCarts, []);
  });
});

Deno.test("routes, parameters and status codes as the contract says", async () => {
  await withServer({}, async (get) => {
    const h = asOf("2026-11-20");
    assert.deepEqual(await body(await get("/products/categories", h)), [
      "electronics",
      "jewelery",
      "men's clothing",
      "women's clothing",
    ]);
    const mens = await body(await get("/products/category/men's%20clothing", h)) as Json[];
    assert.ok(mens.length > 0 && mens.every((p) => p.category === "men's clothing"));
    assert.deepEqual(await body(await get("/products/category/shoes", h)), []);
    const limited = await body(await get("/products?limit=3&sort=desc", h)) as Json[];
    const all = await body(await get("/products", h)) as Json[];
    assert.deepEqual(limited.map((p) => p.id), all.map((p) => p.id).reverse().slice(0, 3));
    assert.equal(
      (await body(await get("/users?limit=abc", h)) as Json[]).length,
      10,
      "limit NaN = none",
    );
    const one = await body(await get("/products/1", h));
    assert.deepEqual(one, all[0]);
    // Unknown ids: 200 with null; non-integer ids: as the live API.
    for (const path of ["/products/999999", "/users/99", "/carts/99999999"]) {
      const response = await get(path, h);
      assert.equal(response.status, 200, path);
      assert.equal(await body(response), null, path);
    }
    const abc = await get("/products/abc", h);
    assert.equal(abc.status, 200);
    assert.equal(await abc.text(), "");
    const userAbc = await get("/users/abc", h);
    assert.equal(userAbc.status, 400);
    assert.deepEqual(await userAbc.json(), {
      status: "error",
      message: "user id should be provided",
    });
    // Carts: YYYY-MM-DD only; startdate inclusive, enddate exclusive.
    const badDate = await get("/carts?startdate=2026-11-20T00:00:00Z", h);
    assert.equal(badDate.status, 400);
    assert.match(((await badDate.json()) as Json).message as string, /yyyy-mm-dd/);
    const week = await body(
      await get("/carts?startdate=2026-11-14&enddate=2026-11-21", h),
    ) as Json[];
    assert.ok(
      week.every((c) => c.date as string >= "2026-11-14" && (c.date as string) < "2026-11-21"),
    );
    const future = await body(await get("/carts?startdate=2026-11-21&enddate=2026-11-30", h));
    assert.deepEqual(future, [], "no carts after the as-of day");
    const userId = week[0]!.userId as number;
    const ofUser = await body(
      await get(`/carts/user/${userId}?startdate=2026-11-14&enddate=2026-11-21`, h),
    ) as Json[];
    assert.ok(ofUser.length > 0 && ofUser.every((c) => c.userId === userId));
    assert.equal((await get("/nowhere", h)).status, 404);
    assert.equal((await get("/products", asOf("2026-11-31"))).status, 400, "a malformed as-of");
  });
});

Deno.test("login checks the password; writes are fake", async () => {
  await withServer({}, async (get, url) => {
    const users = await body(await get("/users")) as Json[];
    const post = (path: string, json: unknown, type = "application/json") =>
      fetch(`${url}${path}`, {
        method: "POST",
        body: JSON.stringify(json),
        headers: { "content-type": type },
      });
    const ok = await post("/auth/login", {
      username: users[0]!.username,
      password: users[0]!.password,
    });
    assert.equal(ok.status, 201);
    const token = ((await ok.json()) as Json).token as string;
    assert.equal(token.split(".").length, 3);
    const wrong = await post("/auth/login", { username: users[0]!.username, password: "nope" });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("content-type") ?? "", /text\/html/);
    assert.equal(await wrong.text(), "username or password is incorrect");
    const notJson = await post("/auth/login", { username: "x" }, "text/plain");
    assert.equal(notJson.status, 400);
    await notJson.body?.cancel();
    const created = await post("/products", { title: "new" });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { id: 21, title: "new" });
    const removed = await fetch(`${url}/users/3`, { method: "DELETE" });
    assert.equal(((await removed.json()) as Json).id, 3);
  });
});

Deno.test("scale 1000: 20,000 products and 10,000 users, generated on demand", async () => {
  await withServer({ scale: 1000 }, async (get) => {
    const products = await body(await get("/products", asOf("2026-11-20"))) as Json[];
    const users = await body(await get("/users", asOf("2026-11-20"))) as Json[];
    assert.equal(products.length, 20_000);
    assert.equal(users.length, 10_000);
    assert.equal(new Set(products.map((p) => p.id)).size, 20_000, "ids are unique");
    assert.equal(new Set(users.map((u) => u.username)).size, 10_000, "usernames are unique");
  });
});

Deno.test("as-of: header, query parameter, default today; echoed back", async () => {
  const now = Date.UTC(2026, 10, 25, 12);
  await withServer({ now: () => now }, async (get) => {
    const byHeader = await get("/products", asOf("2026-11-20"));
    assert.equal(byHeader.headers.get("x-fakestore-as-of"), "2026-11-20");
    const byQuery = await get("/products?as_of=2026-11-20");
    assert.deepEqual(await byQuery.json(), await byHeader.json());
    const byDefault = await get("/products");
    assert.equal(byDefault.headers.get("x-fakestore-as-of"), "2026-11-25");
    await byDefault.body?.cancel();
  });
});

Deno.test("faults: fail N times then succeed, counted per id so tests do not interfere", async () => {
  await withServer({}, async (get) => {
    const headers = (id: string, kind: string, count = "2") => ({
      "X-Fakestore-Fault": kind,
      "X-Fakestore-Fault-Id": id,
      "X-Fakestore-Fault-Count": count,
    });
    const statuses = async (id: string) => {
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await get("/products", headers(id, "5xx"));
        seen.push(response.status);
        await response.body?.cancel();
      }
      return seen;
    };
    const [first, second] = await Promise.all([statuses("a"), statuses("b")]);
    assert.deepEqual(first, [502, 502, 200]);
    assert.deepEqual(second, [502, 502, 200]);

    const limited = await get("/products", headers("c", "429", "1"));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    await limited.body?.cancel();

    const page = await get("/users", headers("d", "html", "1"));
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    await page.body?.cancel();

    const truncated = await get("/users", headers("e", "truncated", "1"));
    await assert.rejects(truncated.json());

    const missing = await body(
      await get("/products", headers("f", "missing-field", "1")),
    ) as Json[];
    assert.equal("price" in missing[0]!, false);
    assert.equal("price" in missing[1]!, true);

    const extra = await body(await get("/carts", headers("g", "extra-field", "1"))) as Json[];
    assert.ok(extra.every((c) => c.status === "open"));

    const onlyUsers = { ...headers("h", "5xx", "always"), "X-Fakestore-Fault-Path": "/users" };
    const products = await get("/products", onlyUsers);
    assert.equal(products.status, 200, "a path-scoped fault spares other paths");
    await products.body?.cancel();
    const users = await get("/users", onlyUsers);
    assert.equal(users.status, 502);
    await users.body?.cancel();

    const typo = await get("/users", headers("i", "explode"));
    assert.equal(typo.status, 400);
    await typo.body?.cancel();
  });
});
