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
import { OrderSimulator } from "./lifecycle.ts";
import { Random } from "./random.ts";

function simulate(seed: string, count: number) {
  const random = new Random(seed);
  let clock = Date.parse("2026-11-25T10:00:00Z");
  const catalog = fallbackCatalog(
    { from: 1, to: 10 },
    { from: 1, to: 20 },
    new Random(`${seed}:c`),
  );
  const simulator = new OrderSimulator(random, catalog, { clock: () => (clock += 137) });
  return { events: Array.from({ length: count }, () => simulator.next()), simulator };
}

Deno.test("lifecycles: created, items, then paid or cancelled, all valid and keyed by order", () => {
  const { events, simulator } = simulate("lifecycle", 5_000);
  const orders = new Map<string, OrderEvent[]>();
  for (const event of events) {
    const result = validateMessage(new TextEncoder().encode(JSON.stringify(event)), event.order_id);
    assert(result.ok, `invalid simulated event: ${JSON.stringify(event)}`);
    orders.set(event.order_id, [...(orders.get(event.order_id) ?? []), result.event]);
  }
  let finished = 0;
  for (const [orderId, events] of orders) {
    const types = events.map((event) => event.event_type);
    assertEquals(types[0], "order_created", `order ${orderId} does not start with order_created`);
    const last = types.at(-1)!;
    const terminal = last === "order_paid" || last === "order_cancelled";
    const middle = types.slice(1, terminal ? -1 : undefined);
    assert(middle.every((type) => type === "item_added"), `order ${orderId}: ${types.join(",")}`);
    assert(new Set(events.map((event) => event.user_id)).size === 1, "one user per order");
    const stamps = events.map((event) => Date.parse(event.occurred_at));
    assert(stamps.every((stamp, i) => i === 0 || stamp > stamps[i - 1]!), "time moves forward");
    if (!terminal) continue;
    finished++;
    assert(middle.length >= 1, `order ${orderId} finished without items`);
    if (last === "order_paid") {
      const items = events.filter((event) => event.event_type === "item_added");
      const cents = items.reduce((sum, e) => sum + Math.round(e.unit_price * 100) * e.quantity, 0);
      const paid = events.at(-1) as Extract<OrderEvent, { event_type: "order_paid" }>;
      assertEquals(Math.round(paid.total_amount * 100), cents, "total = sum of items");
    }
  }
  assertEquals(finished, simulator.stats.paid + simulator.stats.cancelled);
  assert(simulator.stats.paid > simulator.stats.cancelled, "most orders are paid");
});

Deno.test("every simulated event is valid for zod and for the generated JSON Schema", () => {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, multipleOfPrecision: 9 });
  addFormats.default(ajv);
  const validate = ajv.compile(eventsJsonSchema());
  const { events, simulator } = simulate("contract", 400);
  for (const event of [...events, simulator.orphan()].map((e) => JSON.parse(JSON.stringify(e)))) {
    assert(
      validate(event),
      `JSON Schema refused ${JSON.stringify(event)}: ${ajv.errorsText(validate.errors)}`,
    );
    assert(orderEventSchema.safeParse(event).success, `zod refused ${JSON.stringify(event)}`);
  }
});

Deno.test("OrderSimulator refuses an empty catalog", () => {
  const random = new Random("empty");
  let refused = false;
  try {
    new OrderSimulator(random, { source: "fallback", userIds: [], products: [] });
  } catch (error) {
    refused = error instanceof RangeError;
  }
  assert(refused, "a catalog without users or products is a RangeError");
});
