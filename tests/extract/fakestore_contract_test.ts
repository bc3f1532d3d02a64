/**
 * Contract: our Fake Store server answers every route the way the live API does, as pinned in
 * fixtures/fakestore_contract.json (keys in order, JSON types, status, content type, quirks).
 * The fixture is the reference, not the server: a difference fails here, never in production.
 */
import assert from "node:assert/strict";
import { startServer } from "../../workers/fakestore/server.ts";
import contract from "./fixtures/fakestore_contract.json" with { type: "json" };
import { quietLogger } from "./helpers.ts";

type Json = Record<string, unknown>;
/** A JSON type name, a literal, a pattern, a nested shape or a non-empty list of a shape. */
type Spec = string | { $equals: unknown } | { $matches: string } | Spec[] | { [key: string]: Spec };

interface Route {
  request: string;
  why?: string;
  send?: { json?: Json; text?: string };
  status: number;
  contentType?: string;
  body: {
    listOf?: string;
    length?: number;
    where?: Json;
    record?: string;
    shape?: Spec;
    json?: unknown;
    empty?: boolean;
    text?: string;
    contains?: string;
  };
  quirks?: string[];
}

const ROUTES = contract.routes as Route[];
const TYPES = contract.types as unknown as Record<string, Spec>;
const QUIRKS = Object.keys(contract.quirks).filter((name) => name !== "$comment");

const server = startServer({ seed: 42, scale: 1, logger: quietLogger() });
// Teardown, not a test.
Deno.test.afterAll(() => server.shutdown());

function send(method: string, path: string, body?: Route["send"]): Promise<Response> {
  const headers: Record<string, string> = { "X-Fakestore-As-Of": contract.asOf };
  let payload: string | null = null;
  if (body?.json !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body.json);
  } else if (body?.text !== undefined) {
    headers["content-type"] = "text/plain";
    payload = body.text;
  }
  return fetch(`${server.url}${path}`, { method, headers, body: payload });
}

async function getJson(path: string): Promise<unknown> {
  const response = await send("GET", path);
  assert.equal(response.status, 200, `GET ${path}`);
  return await response.json();
}

/** The JSON type of a parsed value: null, array, object, number, string or boolean. */
function jsonType(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/** Every way `value` differs from `spec`, each naming the path. */
function mismatches(spec: Spec, value: unknown, path: string): string[] {
  if (typeof spec === "string") {
    const ok = spec === "integer" ? Number.isInteger(value) : jsonType(value) === spec;
    return ok ? [] : [`${path}: expected ${spec}, got ${JSON.stringify(value)}`];
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(value) || value.length === 0) {
      return [`${path}: expected a non-empty list, got ${JSON.stringify(value)}`];
    }
    return value.flatMap((item, index) => mismatches(spec[0]!, item, `${path}[${index}]`));
  }
  if ("$equals" in spec) {
    return JSON.stringify(value) === JSON.stringify(spec.$equals)
      ? []
      : [`${path}: expected ${JSON.stringify(spec.$equals)}, got ${JSON.stringify(value)}`];
  }
  if ("$matches" in spec && typeof spec.$matches === "string") {
    return typeof value === "string" && new RegExp(spec.$matches).test(value)
      ? []
      : [`${path}: expected a string matching ${spec.$matches}, got ${JSON.stringify(value)}`];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [`${path}: expected an object, got ${JSON.stringify(value)}`];
  }
  const shape = spec as Record<string, Spec>;
  const keys = Object.keys(value);
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(shape))) {
    return [`${path}: keys ${keys.join(",")} instead of ${Object.keys(shape).join(",")}`];
  }
  return keys.flatMap((key) => mismatches(shape[key]!, (value as Json)[key], `${path}.${key}`));
}

function assertShape(spec: Spec, value: unknown, path: string): void {
  const found = mismatches(spec, value, path);
  assert.deepEqual(found.slice(0, 5), [], `${found.length} mismatch(es)`);
}

const ids = (records: Json[]) => records.map((record) => record.id as number);
const dayAfter = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** One check per quirk name of the fixture; `records` is the body as a list. */
const QUIRK_CHECKS: Record<string, (records: Json[], path: string) => Promise<void> | void> = {
  "title-trailing-space": (records) => {
    assert.ok(records.some((p) => (p.title as string).endsWith(" ")));
  },
  "title-typographic": (records) => {
    assert.ok(records.some((p) => /[’”–]/.test(p.title as string)));
  },
  "price-integer-when-whole": (records) => {
    assert.ok(records.some((p) => Number.isInteger(p.price)), "a whole price");
    assert.ok(records.some((p) => !Number.isInteger(p.price)), "a price with cents");
  },
  "rate-integer-sometimes": (records) => {
    assert.ok(records.some((p) => Number.isInteger((p.rating as Json).rate)));
  },
  "jewelery-spelling": (records) => {
    const categories = new Set(records.map((p) => p.category as string));
    assert.ok(categories.has("jewelery"));
    assert.deepEqual([...categories].filter((c) => /jewel/.test(c)), ["jewelery"]);
  },
  "four-categories": (records) => {
    const listed = ROUTES.find((r) => r.request === "GET /products/categories")!.body.json;
    const categories = new Set(records.map((p) => p.category));
    assert.deepEqual([...categories].sort(), listed);
  },
  "address-first": (records) => {
    for (const user of records) assert.equal(Object.keys(user)[0], "address");
  },
  "lat-long-trailing-zeros": (records) => {
    const coordinates = records.flatMap((u) => {
      const geolocation = (u.address as Json).geolocation as Json;
      return [geolocation.lat as string, geolocation.long as string];
    });
    assert.ok(coordinates.every((text) => typeof text === "string"));
    assert.ok(coordinates.some((text) => text.endsWith("0")), "a trailing zero kept");
  },
  "password-plaintext": (records) => {
    for (const user of records) assert.ok((user.password as string).length > 0);
  },
  "users-1-2-share-geolocation-and-phone": (records) => {
    const [one, two] = [1, 2].map((id) => records.find((u) => u.id === id)!);
    assert.deepEqual((one!.address as Json).geolocation, (two!.address as Json).geolocation);
    assert.equal(one!.phone, two!.phone);
  },
  "ids-ascending": (records) => {
    assert.deepEqual(ids(records), [...ids(records)].sort((a, b) => a - b));
  },
  "ids-descending": (records) => {
    assert.deepEqual(ids(records), [...ids(records)].sort((a, b) => b - a));
  },
  "same-as-in-list": async (records, path) => {
    const list = await getJson(path.slice(0, path.lastIndexOf("/"))) as Json[];
    assert.deepEqual(records[0], list.find((record) => record.id === records[0]!.id));
  },
  "enddate-exclusive": async (records, path) => {
    const url = new URL(path, server.url);
    const start = url.searchParams.get("startdate")!;
    const end = url.searchParams.get("enddate")!;
    for (const cart of records) {
      const date = cart.date as string;
      assert.ok(date >= `${start}T` && date < `${end}T`, `${date} in [${start}, ${end})`);
    }
    // Split the range at a day inside it: the two halves hold exactly the carts of the whole.
    const middle = dayAfter(start, 3);
    const half = async (from: string, to: string) => {
      url.searchParams.set("startdate", from);
      url.searchParams.set("enddate", to);
      return ids(await getJson(`${url.pathname}${url.search}`) as Json[]);
    };
    const halves = [...await half(start, middle), ...await half(middle, end)];
    assert.deepEqual(halves, ids(records));
    assert.ok(records.length > 0, "the range holds carts, or the check proves nothing");
  },
};

Deno.test("the fixture names only quirks this test can check, and uses each", () => {
  const used = new Set(ROUTES.flatMap((route) => route.quirks ?? []));
  assert.deepEqual(QUIRKS.filter((name) => !(name in QUIRK_CHECKS)), [], "quirks without a check");
  assert.deepEqual([...used].filter((name) => !QUIRKS.includes(name)), [], "undefined quirks");
  assert.deepEqual(QUIRKS.filter((name) => !used.has(name)), [], "quirks no route shows");
});

/** `$user1.password` and the like, read from our server's user 1. */
async function resolve(send: Route["send"]): Promise<Route["send"]> {
  if (send?.json === undefined) return send;
  const user = await getJson("/users/1") as Json;
  const json = Object.fromEntries(
    Object.entries(send.json).map(([key, value]) => {
      const match = typeof value === "string" ? /^\$user1\.(\w+)$/.exec(value) : null;
      return [key, match ? user[match[1]!] : value];
    }),
  );
  return { json };
}

for (const route of ROUTES) {
  Deno.test(`${route.request} answers ${route.status} as the live API does`, async () => {
    const [method, path] = route.request.split(" ") as [string, string];
    const response = await send(method, path, await resolve(route.send));
    const text = await response.text();
    assert.equal(response.status, route.status, text.slice(0, 200));
    assert.equal(
      response.headers.get("content-type"),
      route.contentType ?? contract.jsonContentType,
    );
    const expect = route.body;
    if (expect.empty) return assert.equal(text, "");
    if (expect.text !== undefined) return assert.equal(text, expect.text);
    if (expect.contains !== undefined) return assert.ok(text.includes(expect.contains), text);
    const body: unknown = JSON.parse(text);
    if ("json" in expect) return assert.deepEqual(body, expect.json);
    if (expect.shape !== undefined) return assertShape(expect.shape, body, "body");
    let records: Json[];
    if (expect.record !== undefined) {
      assertShape(TYPES[expect.record]!, body, expect.record);
      records = [body as Json];
    } else {
      assert.ok(Array.isArray(body), "a list");
      records = body as Json[];
      assert.ok(records.length > 0, "a non-empty list, or the shape check proves nothing");
      if (expect.length !== undefined) assert.equal(records.length, expect.length);
      records.forEach((record, i) => assertShape(TYPES[expect.listOf!]!, record, `[${i}]`));
      for (const [key, value] of Object.entries(expect.where ?? {})) {
        assert.ok(records.every((record) => record[key] === value), `every ${key} = ${value}`);
      }
    }
    for (const quirk of route.quirks ?? []) {
      await QUIRK_CHECKS[quirk]!(records, path);
    }
  });
}
