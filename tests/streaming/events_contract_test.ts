/**
 * The event contract in step: docs/events.schema.json is exactly what the zod schema generates,
 * docs/events.md documents exactly the schema's fields and values, the JSON Schema and zod agree
 * on valid and invalid events, and validateMessage classifies every kind of bad message.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  EVENT_TYPES,
  eventsJsonSchema,
  MAX_EVENT_BYTES,
  orderEventSchema,
  validateMessage,
} from "../../workers/shared/mod.ts";
import { fallbackCatalog } from "../../workers/producer/catalog.ts";
import { malformed, MALFORMED_KINDS, type MalformedKind } from "../../workers/producer/chaos.ts";
import { OrderSimulator } from "../../workers/producer/lifecycle.ts";
import { Random } from "../../workers/producer/random.ts";

const DOCS = new URL("../../docs/", import.meta.url);
const encode = (text: string) => new TextEncoder().encode(text);

type JsonObject = { properties: Record<string, { const?: unknown; enum?: unknown[] }> };
const variants = eventsJsonSchema().oneOf as JsonObject[];
const COMMON = ["schema_version", "event_id", "event_type", "order_id", "user_id", "occurred_at"];

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

Deno.test("the JSON Schema and zod agree on valid and malformed events", () => {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, multipleOfPrecision: 9 });
  addFormats.default(ajv);
  const validate = ajv.compile(eventsJsonSchema());
  const random = new Random("contract");
  const simulator = new OrderSimulator(
    random,
    fallbackCatalog({ from: 1, to: 10 }, { from: 1, to: 20 }, random),
  );
  for (let i = 0; i < 400; i++) {
    const event = JSON.parse(JSON.stringify(simulator.next()));
    assert(
      validate(event),
      `JSON Schema refused ${JSON.stringify(event)}: ${ajv.errorsText(validate.errors)}`,
    );
    assert(orderEventSchema.safeParse(event).success);
  }
  const base = JSON.parse(JSON.stringify(simulator.orphan()));
  const item = {
    ...base,
    event_type: "item_added",
    product_id: 1,
    quantity: 1,
    unit_price: 1,
    reason: undefined,
  };
  delete item.reason;
  const invalid: unknown[] = [
    { ...base, schema_version: 2 },
    { ...base, extra: 1 },
    { ...base, user_id: 0 },
    { ...base, user_id: 2147483648 },
    { ...base, occurred_at: "2026-11-25T10:00:00+01:00" },
    { ...base, event_id: "not-a-uuid" },
    { ...base, event_type: "order_shipped" },
    { ...base, reason: "a\u0000b" },
    { ...base, reason: "a\ud800b" },
    { ...item, quantity: 101 },
    { ...item, quantity: 1.5 },
    { ...item, unit_price: 19.999 },
    { ...item, unit_price: -1 },
    [base],
    "text",
    null,
  ];
  for (const kind of ["wrong_types", "missing_fields", "nul_escape", "unknown_version"] as const) {
    for (let i = 0; i < 20; i++) {
      invalid.push(JSON.parse(malformed(kind, simulator.orphan(), random).value as string));
    }
  }
  for (const value of invalid) {
    assert(!validate(value), `JSON Schema accepted ${JSON.stringify(value)}`);
    assert(!orderEventSchema.safeParse(value).success, `zod accepted ${JSON.stringify(value)}`);
  }
  for (const value of [{ ...item, unit_price: 19.99 }, { ...item, unit_price: 0.3 }]) {
    assert(validate(value) && orderEventSchema.safeParse(value).success);
  }
});

Deno.test("validateMessage classifies every kind of message", () => {
  const random = new Random("classes");
  const simulator = new OrderSimulator(
    random,
    fallbackCatalog({ from: 1, to: 3 }, { from: 1, to: 3 }, random),
  );
  const event = simulator.orphan();
  const valid = validateMessage(encode(JSON.stringify(event)), event.order_id);
  assert(valid.ok);

  // The cap is inclusive: a valid event of exactly MAX_EVENT_BYTES passes, one byte more does not.
  const bare = JSON.stringify({ ...event, reason: "" }).length;
  const atCap = JSON.stringify({ ...event, reason: "r".repeat(MAX_EVENT_BYTES - bare) });
  assertEquals(encode(atCap).byteLength, MAX_EVENT_BYTES);
  assert(validateMessage(encode(atCap), event.order_id).ok);
  const overCap = validateMessage(encode(atCap + " "), event.order_id);
  assert(!overCap.ok && overCap.errorClass === "oversize" && overCap.text === null);

  const classOf = (value: Uint8Array | null, key: string | null = event.order_id) => {
    const result = validateMessage(value, key);
    return result.ok ? "valid" : result.errorClass;
  };
  assertEquals(classOf(null), "parse");
  assertEquals(classOf(encode("")), "parse");
  assertEquals(classOf(new Uint8Array([0x7b, 0xff, 0x7d])), "parse");
  assertEquals(classOf(encode(JSON.stringify(event)), null), "schema");
  assertEquals(classOf(encode(JSON.stringify(event)), crypto.randomUUID()), "schema");
  const nul = validateMessage(
    encode(JSON.stringify(event).replace('"reason":"', '"reason":"\u0000')),
    event.order_id,
  );
  assert(!nul.ok && nul.errorClass === "parse" && nul.text === null, "a raw NUL has no text");
  const v2 = validateMessage(
    encode(JSON.stringify({ ...event, schema_version: 2 })),
    event.order_id,
  );
  assert(!v2.ok && v2.errorClass === "schema" && v2.message.includes("schema_version"));

  // Every malformed kind the simulator makes gets the class the manifest expects.
  for (const kind of Object.keys(MALFORMED_KINDS) as MalformedKind[]) {
    for (let i = 0; i < 10; i++) {
      const message = malformed(kind, simulator.orphan(), random);
      const value = typeof message.value === "string" ? encode(message.value) : message.value;
      assertEquals(classOf(value, message.key), MALFORMED_KINDS[kind], `kind ${kind}`);
    }
  }
});
