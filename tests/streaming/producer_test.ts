/**
 * The event simulator on its own: lifecycles are well formed and reproducible from a seed, the
 * chaos knobs make what they say, the catalog comes from the Fake Store server (or the fallback
 * ranges when it is unreachable), and a broker restart mid-run loses and doubles nothing.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { createLogger, type OrderEvent, validateMessage } from "../../workers/shared/mod.ts";
import { fallbackCatalog, fetchCatalog, loadCatalog } from "../../workers/producer/catalog.ts";
import { MessageStream, type Outgoing } from "../../workers/producer/chaos.ts";
import { OrderSimulator } from "../../workers/producer/lifecycle.ts";
import { Random } from "../../workers/producer/random.ts";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  createTopic,
  deleteTopics,
  env,
  isTestInstance,
  REPO,
  restartService,
  topicEnd,
  uniqueName,
  waitCaughtUp,
  waitFor,
} from "./helpers.ts";
import type { Manifest } from "../../workers/producer/publisher.ts";

const logger = createLogger("producer-test", { level: "error" });
const catalogFor = (seed: string) =>
  fallbackCatalog({ from: 1, to: 10 }, { from: 1, to: 20 }, new Random(`${seed}:catalog`));

function draw(
  seed: string,
  count: number,
  chaos = { duplicatePct: 0, latePct: 0, malformedPct: 0 },
) {
  const random = new Random(seed);
  let clock = Date.parse("2026-11-25T10:00:00Z");
  const simulator = new OrderSimulator(random, catalogFor(seed), { clock: () => (clock += 137) });
  const stream = new MessageStream(simulator, random, chaos);
  const messages: Outgoing[] = [];
  while (messages.length + stream.held < count) {
    const message = stream.next();
    if (message) messages.push(message);
  }
  return { messages: [...messages, ...stream.drain()], simulator };
}

Deno.test("a seed reproduces the run; another seed does not", () => {
  const chaos = { duplicatePct: 5, latePct: 5, malformedPct: 5 };
  const first = draw("seed-a", 2_000, chaos).messages;
  assertEquals(draw("seed-a", 2_000, chaos).messages, first);
  const other = draw("seed-b", 2_000, chaos).messages;
  assert(other[0]?.value !== first[0]?.value);
  assertEquals(first.length, 2_000);
});

Deno.test("lifecycles: created, items, then paid or cancelled, all valid and keyed by order", () => {
  const { messages, simulator } = draw("lifecycle", 5_000);
  const orders = new Map<string, OrderEvent[]>();
  for (const message of messages) {
    assert(message.kind === "valid");
    const result = validateMessage(new TextEncoder().encode(message.value), message.key);
    assert(result.ok, `invalid simulated event: ${message.value}`);
    assertEquals(message.key, result.event.order_id);
    orders.set(message.key, [...(orders.get(message.key) ?? []), result.event]);
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

Deno.test("chaos knobs: duplicates repeat earlier messages, late ones come after later ones", () => {
  const { messages } = draw("chaos", 6_000, { duplicatePct: 4, latePct: 6, malformedPct: 5 });
  const seenValues = new Set<string>();
  const lastOffsetOfOrder = new Map<string, number>();
  let duplicates = 0, late = 0, overtaken = 0, malformed = 0;
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
      malformed++;
    }
  });
  const share = (n: number) => n / messages.length;
  assert(share(duplicates) > 0.02 && share(duplicates) < 0.07, `duplicates ${duplicates}`);
  assert(share(late) > 0.03 && share(late) < 0.09, `late ${late}`);
  assert(share(malformed) > 0.03 && share(malformed) < 0.08, `malformed ${malformed}`);
  assert(overtaken > 0, "some late events arrive after a later event of their own order");
});

Deno.test("catalog: users and products from the Fake Store server, fallback when unreachable", async () => {
  const baseUrl = env.FAKESTORE_BASE_URL ?? "http://127.0.0.1:3000";
  const catalog = await fetchCatalog(baseUrl, { timeoutMs: 10_000 });
  assertEquals(catalog.source, "fakestore");
  assert(catalog.userIds.length >= 10 && catalog.products.length >= 20);
  const cents = (price: number) => Math.abs(Math.round(price * 100) - price * 100) < 1e-6;
  assert(catalog.products.every((p) => p.price >= 0 && cents(p.price)), "prices in cents");
  const unreachable = await loadCatalog("auto", {
    baseUrl: "http://127.0.0.1:9/",
    users: { from: 1, to: 4 },
    products: { from: 5, to: 9 },
    random: new Random("x"),
    logger,
    timeoutMs: 500,
  });
  assertEquals(unreachable.source, "fallback");
  assertEquals(unreachable.userIds, [1, 2, 3, 4]);
  assertEquals(unreachable.products.map((p) => p.id), [5, 6, 7, 8, 9]);
  await rejects(() =>
    loadCatalog("fakestore", {
      baseUrl: "http://127.0.0.1:9/",
      users: { from: 1, to: 4 },
      products: { from: 5, to: 9 },
      random: new Random("x"),
      logger,
      timeoutMs: 500,
    })
  );
});

Deno.test("rate 0 switches the simulator off", async () => {
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      "workers/producer/main.ts",
      "--rate",
      "0",
    ],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0);
  assert(new TextDecoder().decode(output.stderr).includes("switched off"));
});

Deno.test({
  name: "producer resilience: a broker restart mid-run loses and doubles nothing",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const topic = uniqueName("t_producer");
    const group = uniqueName("g_producer");
    await createTopic(topic);
    const manifestPath = await Deno.makeTempFile({ suffix: ".json" });
    const producer = new Deno.Command("deno", {
      args: [
        "run",
        "--allow-env",
        "--allow-net",
        "--allow-sys",
        "--allow-write",
        "workers/producer/main.ts",
        "--topic",
        topic,
        "--rate",
        "400",
        "--count",
        "4000",
        "--seed",
        `resilience-${topic}`,
        "--catalog",
        "fallback",
        "--manifest",
        manifestPath,
      ],
      cwd: REPO,
      env: { LOG_LEVEL: "warn" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await waitFor(async () => (await topicEnd(topic)) >= 1_000, {
        timeoutMs: 30_000,
        message: "producer did not start sending",
      });
      console.log("restarting the broker while the producer sends");
      await restartService("kafka");
      const status = await producer.output();
      const stderr = new TextDecoder().decode(status.stderr);
      assertEquals(status.code, 0, `producer failed:\n${stderr.slice(-2000)}`);
      const manifest = JSON.parse(await Deno.readTextFile(manifestPath)) as Manifest;
      assertEquals(manifest.acknowledged.total, 4_000);
      // Read the topic back through the real consumer and reconcile with the manifest.
      const consumer = new ConsumerProcess(topic, group);
      await waitCaughtUp(group, topic, 60_000, [consumer], manifest.acknowledged.total);
      assertEquals(await consumer.stop(), 0);
      await assertMatchesManifest(topic, manifest, {
        exactDuplicates: manifest.resent_batches === 0,
      });
    } finally {
      await Deno.remove(manifestPath).catch(() => {});
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
