import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import {
  eventsJsonSchema,
  type OrderEvent,
  orderEventSchema,
  validateMessage,
} from "../shared/mod.ts";
import { fallbackCatalog } from "./catalog.ts";
import {
  malformed,
  MALFORMED_KINDS,
  type MalformedKind,
  MessageStream,
  type Outgoing,
} from "./chaos.ts";
import { OrderSimulator } from "./lifecycle.ts";
import { Random } from "./random.ts";

const encode = (text: string) => new TextEncoder().encode(text);

function simulator(seed: string, random: Random): OrderSimulator {
  let clock = Date.parse("2026-11-25T10:00:00Z");
  const catalog = fallbackCatalog(
    { from: 1, to: 10 },
    { from: 1, to: 20 },
    new Random(`${seed}:c`),
  );
  return new OrderSimulator(random, catalog, { clock: () => (clock += 137) });
}

function draw(
  seed: string,
  count: number,
  chaos = { duplicatePct: 0, latePct: 0, malformedPct: 0 },
) {
  const random = new Random(seed);
  const stream = new MessageStream(simulator(seed, random), random, chaos);
  const messages: Outgoing[] = [];
  while (messages.length + stream.held < count) {
    const message = stream.next();
    if (message) messages.push(message);
  }
  return [...messages, ...stream.drain()];
}

Deno.test("a seed reproduces the message stream; another seed does not", () => {
  const chaos = { duplicatePct: 5, latePct: 5, malformedPct: 5 };
  const first = draw("seed-a", 2_000, chaos);
  assertEquals(draw("seed-a", 2_000, chaos), first);
  const other = draw("seed-b", 2_000, chaos);
  assert(other[0]?.value !== first[0]?.value);
  assertEquals(first.length, 2_000);
});

Deno.test("chaos knobs: duplicates repeat earlier messages, late ones come after later ones", () => {
  const messages = draw("chaos", 6_000, { duplicatePct: 4, latePct: 6, malformedPct: 5 });
  const seenValues = new Set<string>();
  const lastOffsetOfOrder = new Map<string, number>();
  let duplicates = 0, late = 0, overtaken = 0, malformedCount = 0;
  messages.forEach((message, index) => {
    if (message.kind === "duplicate") {
      duplicates++;
      assert(seenValues.has(message.value), "a duplicate repeats an earlier message");
    } else if (message.kind === "valid") {
      seenValues.add(message.value);
      if (message.late) {
        late++;
        const event = JSON.parse(message.value) as OrderEvent;
        // Sent after a later event of the same order: the out-of-order case consumers must bear.
        const previous = lastOffsetOfOrder.get(message.key);
        if (previous !== undefined) {
          const before = JSON.parse((messages[previous] as { value: string }).value) as OrderEvent;
          if (Date.parse(before.occurred_at) > Date.parse(event.occurred_at)) overtaken++;
        }
      }
      lastOffsetOfOrder.set(message.key, index);
    } else {
      malformedCount++;
    }
  });
  const share = (n: number) => n / messages.length;
  assert(share(duplicates) > 0.02 && share(duplicates) < 0.07, `duplicates ${duplicates}`);
  assert(share(late) > 0.03 && share(late) < 0.09, `late ${late}`);
  assert(
    share(malformedCount) > 0.03 && share(malformedCount) < 0.08,
    `malformed ${malformedCount}`,
  );
  assert(overtaken > 0, "some late events arrive after a later event of their own order");
});

Deno.test("every malformed kind gets the error class the manifest counts it under", () => {
  const random = new Random("classes");
  const source = simulator("classes", random);
  for (const kind of Object.keys(MALFORMED_KINDS) as MalformedKind[]) {
    for (let i = 0; i < 10; i++) {
      const message = malformed(kind, source.orphan(), random);
      const value = typeof message.value === "string" ? encode(message.value) : message.value;
      const result = validateMessage(value, message.key);
      assertEquals(result.ok ? "valid" : result.errorClass, MALFORMED_KINDS[kind], `kind ${kind}`);
    }
  }
});

Deno.test("malformed JSON of schema kinds is refused by zod and by the generated JSON Schema", () => {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, multipleOfPrecision: 9 });
  addFormats.default(ajv);
  const validate = ajv.compile(eventsJsonSchema());
  const random = new Random("contract");
  const source = simulator("contract", random);
  for (const kind of ["wrong_types", "missing_fields", "nul_escape", "unknown_version"] as const) {
    for (let i = 0; i < 20; i++) {
      const value = JSON.parse(malformed(kind, source.orphan(), random).value as string);
      assert(!validate(value), `JSON Schema accepted ${kind}: ${JSON.stringify(value)}`);
      assert(!orderEventSchema.safeParse(value).success, `zod accepted ${kind}`);
    }
  }
});
