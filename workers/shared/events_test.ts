/**
 * The event contract in step: docs/events.schema.json is exactly what the zod schema generates,
 * docs/events.md documents exactly the schema's fields and values, the JSON Schema and zod agree
 * on valid and invalid events, and validateMessage classifies every kind of bad message.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  describeIssues,
  EVENT_TYPES,
  eventsJsonSchema,
  isValidEvent,
  MAX_EVENT_BYTES,
  orderEventSchema,
  validateMessage,
} from "./events.ts";

const DOCS = new URL("../../docs/", import.meta.url);
const encode = (text: string) => new TextEncoder().encode(text);

type JsonObject = { properties: Record<string, { const?: unknown; enum?: unknown[] }> };
const variants = eventsJsonSchema().oneOf as JsonObject[];
const COMMON = ["schema_version", "event_id", "event_type", "order_id", "user_id", "occurred_at"];

/** A valid order_cancelled event. */
const cancelled = {
  schema_version: 1,
  event_id: "0b8d5a52-6c3e-4f1a-8b2d-1c3e5f7a9b0d",
  order_id: "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f",
  user_id: 3,
  occurred_at: "2026-11-25T10:00:00.000Z",
  event_type: "order_cancelled",
  reason: "customer_request",
};
const { reason: _reason, ...common } = cancelled;
const item = { ...common, event_type: "item_added", product_id: 1, quantity: 1, unit_price: 1 };

/** Backticked names in the first column of the tables under each heading of events.md. */
function documentedFields(markdown: string): Map<string, { fields: string[]; text: string }> {
  const sections = new Map<string, { fields: string[]; text: string }>();
  let current = "";
  for (const line of markdown.split("\n")) {
    const heading = /^#{2,3} (.+)$/.exec(line);
    if (heading) {
      current = heading[1]!.replaceAll("`", "").trim();
      sections.set(current, { fields: [], text: "" });
      continue;
    }
    const row = /^\| `([a-z_]+)` \|(.*)$/.exec(line);
    const section = sections.get(current);
    if (row && section) {
      section.fields.push(row[1]!);
      section.text += row[2];
    }
  }
  return sections;
}

Deno.test("docs/events.schema.json is what the zod schema generates", async () => {
  const onDisk = await Deno.readTextFile(new URL("events.schema.json", DOCS));
  assertEquals(
    onDisk,
    JSON.stringify(eventsJsonSchema(), null, 2) + "\n",
    "docs/events.schema.json is stale: run `deno task events:schema`",
  );
});

Deno.test("docs/events.md documents exactly the schema's fields and values", async () => {
  const markdown = await Deno.readTextFile(new URL("events.md", DOCS));
  const sections = documentedFields(markdown);
  assertEquals(sections.get("Common fields")?.fields, COMMON);
  assertEquals(variants.length, EVENT_TYPES.length);
  for (const variant of variants) {
    const type = variant.properties.event_type?.const as string;
    const section = sections.get(type);
    assert(section, `events.md has no section for ${type}`);
    const specific = Object.keys(variant.properties).filter((name) => !COMMON.includes(name));
    assertEquals(section.fields.toSorted(), specific.toSorted(), `fields of ${type}`);
    for (const name of specific) {
      for (const value of variant.properties[name]?.enum ?? []) {
        assert(
          section.text.includes(`\`${value}\``),
          `${type}.${name}: value ${value} undocumented`,
        );
      }
    }
    assert(markdown.includes(`\`${type}\``), `event type ${type} undocumented`);
  }
  assert(markdown.includes(String(MAX_EVENT_BYTES)), "the size cap is undocumented");
  // The example in the page is a valid event for zod and for the JSON Schema.
  const example = /```json\n(.+)\n```/.exec(markdown)?.[1];
  assert(example, "events.md has no JSON example");
  assert(orderEventSchema.safeParse(JSON.parse(example)).success, "the example is not valid");
});

Deno.test("the JSON Schema and zod agree on valid and invalid events", () => {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, multipleOfPrecision: 9 });
  addFormats.default(ajv);
  const validate = ajv.compile(eventsJsonSchema());
  const invalid: unknown[] = [
    { ...cancelled, schema_version: 2 },
    { ...cancelled, extra: 1 },
    { ...cancelled, user_id: 0 },
    { ...cancelled, user_id: 2147483648 },
    { ...cancelled, occurred_at: "2026-11-25T10:00:00+01:00" },
    { ...cancelled, event_id: "not-a-uuid" },
    { ...cancelled, event_type: "order_shipped" },
    { ...cancelled, reason: "a\u0000b" },
    { ...cancelled, reason: "a\ud800b" },
    { ...item, quantity: 101 },
    { ...item, quantity: 1.5 },
    { ...item, unit_price: 19.999 },
    { ...item, unit_price: -1 },
    [cancelled],
    "text",
    null,
  ];
  for (const value of invalid) {
    assert(!validate(value), `JSON Schema accepted ${JSON.stringify(value)}`);
    assert(!orderEventSchema.safeParse(value).success, `zod accepted ${JSON.stringify(value)}`);
  }
  for (
    const value of [cancelled, item, { ...item, unit_price: 19.99 }, { ...item, unit_price: 0.3 }]
  ) {
    assert(validate(value), `JSON Schema refused ${JSON.stringify(value)}`);
    assert(orderEventSchema.safeParse(value).success, `zod refused ${JSON.stringify(value)}`);
  }
});

Deno.test("validateMessage classifies every kind of message", () => {
  const text = JSON.stringify(cancelled);
  const valid = validateMessage(encode(text), cancelled.order_id);
  assert(valid.ok && valid.text === text && valid.event.event_id === cancelled.event_id);

  // The cap is inclusive: a valid event of exactly MAX_EVENT_BYTES passes, one byte more does not.
  const bare = JSON.stringify({ ...cancelled, reason: "" }).length;
  const atCap = JSON.stringify({ ...cancelled, reason: "r".repeat(MAX_EVENT_BYTES - bare) });
  assertEquals(encode(atCap).byteLength, MAX_EVENT_BYTES);
  assert(validateMessage(encode(atCap), cancelled.order_id).ok);
  const overCap = validateMessage(encode(atCap + " "), cancelled.order_id);
  assert(!overCap.ok && overCap.errorClass === "oversize" && overCap.text === null);

  const classOf = (value: Uint8Array | null, key: string | null = cancelled.order_id) => {
    const result = validateMessage(value, key);
    return result.ok ? "valid" : result.errorClass;
  };
  assertEquals(classOf(null), "parse");
  assertEquals(classOf(encode("")), "parse");
  assertEquals(classOf(new Uint8Array([0x7b, 0xff, 0x7d])), "parse");
  assertEquals(classOf(encode(text), null), "schema");
  assertEquals(classOf(encode(text), crypto.randomUUID()), "schema");
  const nul = validateMessage(
    encode(text.replace('"reason":"', '"reason":"\u0000')),
    cancelled.order_id,
  );
  assert(!nul.ok && nul.errorClass === "parse" && nul.text === null, "a raw NUL has no text");
  const v2 = validateMessage(
    encode(JSON.stringify({ ...cancelled, schema_version: 2 })),
    cancelled.order_id,
  );
  assert(!v2.ok && v2.errorClass === "schema" && v2.message.includes("schema_version"));
  assert(v2.text !== null, "a schema error keeps the text");
});

Deno.test("describeIssues names each failing field, at most ten, on one line", () => {
  const parsed = orderEventSchema.safeParse({ ...item, quantity: 101, product_id: 0 });
  assert(!parsed.success);
  const line = describeIssues(parsed.error.issues);
  assert(/^(quantity|product_id): .+; (quantity|product_id): .+$/.test(line), line);
  const many = Array.from(
    { length: 12 },
    (_, i) => ({ ...parsed.error.issues[0]!, path: [`f${i}`] }),
  );
  const capped = describeIssues(many);
  assert(capped.includes("f9: ") && !capped.includes("f10: "), capped);
  assert(capped.endsWith("; and 2 more"), capped);
  assertEquals(
    describeIssues([{ ...parsed.error.issues[0]!, path: [] }]).startsWith("(root): "),
    true,
  );
});

Deno.test("isValidEvent accepts only what zod accepts, and every plain valid event", () => {
  const created = { ...common, event_type: "order_created", channel: "web" };
  const paid = { ...common, event_type: "order_paid", total_amount: 12.5, payment_method: "card" };
  const bases: Record<string, unknown>[] = [cancelled, item, created, paid];
  const odd: unknown[] = [
    undefined,
    null,
    true,
    "",
    "x",
    0,
    -0,
    1,
    2,
    -1,
    1.5,
    100,
    101,
    0.07,
    2.03,
    1.005,
    19.99,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 53,
    NaN,
    Infinity,
    [],
    {},
    "web",
    "card",
    "order_paid",
    cancelled.order_id.toUpperCase(),
    "00000000-0000-0000-0000-000000000000",
    "0b8d5a52-6c3e-0f1a-8b2d-1c3e5f7a9b0d",
    "2026-11-25T10:00:00Z",
    "2026-11-25T10:00:00+01:00",
    "2024-02-29T00:00:00.000Z",
    "2023-02-29T00:00:00.000Z",
    "2026-11-25 10:00:00Z",
    "a\u0000b",
    "\uD800",
    "\uD83D\uDE00",
  ];
  let agreed = 0;
  const check = (value: unknown) => {
    const zod = orderEventSchema.safeParse(value).success;
    const fast = isValidEvent(value);
    assert(!fast || zod, `isValidEvent accepted what zod refuses: ${JSON.stringify(value)}`);
    if (fast === zod) agreed++;
  };
  for (const base of bases) {
    assert(isValidEvent(base), `isValidEvent refused ${JSON.stringify(base)}`);
    check(JSON.parse(JSON.stringify(base).replace("{", '{"__proto__":{},')));
    check({ ...base, extra: 1 });
    for (const name of Object.keys(base)) {
      const rest: Record<string, unknown> = { ...base };
      delete rest[name];
      check(rest);
      for (const value of odd) check({ ...base, [name]: value });
    }
  }
  for (const value of odd) check(value);
  assert(agreed > 600, `isValidEvent and zod agreed on only ${agreed} values`);
});
