/**
 * The landing step against the real database, as the consumer's role (loader): offsets and rows
 * in one transaction, skipping what is below the stored offset, gaps, duplicates inside one
 * batch, poison rows isolated by splitting, and two owners of one partition taking turns.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createLogger, createPool, type Pool, validateMessage } from "../../workers/shared/mod.ts";
import { type InboundMessage, landBatch } from "../../workers/consumer/landing.ts";
import { verdictOf } from "../../workers/consumer/plan.ts";
import { fallbackCatalog } from "../../workers/producer/catalog.ts";
import { OrderSimulator } from "../../workers/producer/lifecycle.ts";
import { Random } from "../../workers/producer/random.ts";
import { closeSql, env, landedCounts, sql, uniqueName } from "./helpers.ts";

const logger = createLogger("landing-test", { level: "error" });

/** A landing test: its own pool as the consumer's role, closed with the verification pool. */
function landingTest(name: string, fn: (pool: Pool) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    fn: async () => {
      const pool = createPool({
        PGHOST: env.PGHOST ?? "127.0.0.1",
        PGPORT: Number(env.PGPORT ?? 5432),
        PGDATABASE: env.PGDATABASE ?? "warehouse",
        PGUSER: "loader",
        PGPASSWORD: env.LOADER_PASSWORD ?? "loader",
      }, { applicationName: "landing-test", max: 4 });
      try {
        await fn(pool);
      } finally {
        await pool.end();
        await closeSql();
      }
    },
  });
}

const random = new Random(crypto.randomUUID());
const simulator = new OrderSimulator(
  random,
  fallbackCatalog({ from: 1, to: 5 }, { from: 1, to: 5 }, random),
);

/** Messages at offsets from..to built from `text(i)` (default: fresh valid events). */
function messages(from: number, to: number, text?: (offset: number) => string): InboundMessage[] {
  const out: InboundMessage[] = [];
  for (let offset = from; offset <= to; offset++) {
    const raw = text?.(offset) ?? JSON.stringify(simulator.next());
    const value = new TextEncoder().encode(raw);
    const key = JSON.parse(raw).order_id as string;
    out.push({
      offset,
      key,
      timestampMs: Date.now(),
      value,
      validation: verdictOf(validateMessage(value, key)),
    });
  }
  return out;
}

const target = () => ({ group: uniqueName("g"), topic: uniqueName("t"), partition: 0 });

async function stored(t: { group: string; topic: string }): Promise<number> {
  const [row] = await sql<{ next_offset: string }>(
    "select next_offset from raw.consumer_offsets where consumer_group = $1 and topic = $2",
    [t.group, t.topic],
  );
  return Number(row?.next_offset ?? -1);
}

landingTest(
  "a batch lands once; below the stored offset is skipped; a gap is sought",
  async (pool) => {
    const t = target();
    const first = messages(0, 9);
    const result = await landBatch(pool, t, first, { logger });
    assertEquals(result.kind, "landed");
    assertEquals(await stored(t), 10);
    // Kafka hands the same batch again (its committed offset lagged): nothing is written.
    assertEquals((await landBatch(pool, t, first, { logger })).kind, "behind");
    // An overlapping batch: the first five are skipped, the rest land.
    const overlap = [...first.slice(5), ...messages(10, 14)];
    const second = await landBatch(pool, t, overlap, { logger });
    assert(second.kind === "landed");
    assertEquals([second.skipped, second.landed], [5, 5]);
    assertEquals((await landedCounts(t.topic)).events, 15);
    // A batch starting above the stored offset is a gap: nothing lands until Kafka confirms it.
    const later = messages(20, 24);
    assertEquals(await landBatch(pool, t, later, { logger }), { kind: "gap", storedOffset: 15 });
    const confirmed = await landBatch(pool, t, later, { logger, acceptGapFrom: 15 });
    assert(confirmed.kind === "landed" && confirmed.landed === 5);
    assertEquals(await stored(t), 25);
  },
);

landingTest(
  "duplicates inside a batch and across batches are dropped and recorded",
  async (pool) => {
    const t = target();
    const batch = messages(0, 5);
    // Offsets 6 and 7 repeat the events at offsets 1 and 2, byte for byte.
    const repeats = [batch[1]!, batch[2]!].map((m, i) => ({ ...m, offset: 6 + i }));
    const result = await landBatch(pool, t, [...batch, ...repeats], { logger });
    assert(result.kind === "landed");
    assertEquals([result.landed, result.duplicates], [6, 2]);
    const again = [batch[3]!].map((m) => ({ ...m, offset: 8 }));
    const second = await landBatch(pool, t, again, { logger });
    assert(second.kind === "landed");
    assertEquals([second.landed, second.duplicates], [0, 1]);
    const dups = await sql<{ kafka_offset: string }>(
      "select kafka_offset from raw.order_events_duplicates where topic = $1 order by 1",
      [t.topic],
    );
    assertEquals(dups.map((row) => Number(row.kafka_offset)), [6, 7, 8]);
  },
);

landingTest("a poison row PostgreSQL refuses is isolated and dead-lettered", async (pool) => {
  const t = target();
  // Valid for the schema (JSON.parse reads 1.000… as 1) but beyond PostgreSQL's numeric.
  const poison = () => {
    const event = simulator.next();
    return JSON.stringify(event).replace(
      `"user_id":${event.user_id}`,
      `"user_id":${event.user_id}.${"0".repeat(17_000)}`,
    );
  };
  const batch = [...messages(0, 40), ...messages(41, 41, poison), ...messages(42, 90)];
  batch.push(...messages(91, 91, poison));
  // The same poison again in the batch (a duplicate of a refused event is refused too).
  batch.push({ ...batch[41]!, offset: 92 });
  assert(batch.every((m) => m.validation.ok), "the poison passes validation");
  const result = await landBatch(pool, t, batch, { logger });
  assert(result.kind === "landed");
  assertEquals([result.landed, result.deadLetters, result.duplicates], [90, 3, 0]);
  const dead = await sql<{ kafka_offset: string; error_class: string; error_message: string }>(
    `select kafka_offset, error_class, error_message from raw.order_events_dead_letters
     where topic = $1 order by kafka_offset`,
    [t.topic],
  );
  assertEquals(dead.map((row) => Number(row.kafka_offset)), [41, 91, 92]);
  assert(
    dead.every((row) =>
      row.error_class === "schema" && /PostgreSQL refused/.test(row.error_message)
    ),
  );
  assertEquals(await stored(t), 93);
});

landingTest("two owners of one partition take turns: every row lands once", async (pool) => {
  const t = target();
  const batch = messages(0, 199);
  const results = await Promise.all([
    landBatch(pool, t, batch, { logger }),
    landBatch(pool, t, batch, { logger }),
    landBatch(pool, t, batch.slice(0, 150), { logger }),
  ]);
  const landed = results.reduce((sum, r) => sum + (r.kind === "landed" ? r.landed : 0), 0);
  assertEquals(landed, 200);
  assertEquals(await landedCounts(t.topic), { events: 200, deadLetters: 0, duplicates: 0 });
  assertEquals(await stored(t), 200);
});
