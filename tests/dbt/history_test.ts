/**
 * Incremental marts keep today's guarantees (docs/decisions/0037): a history built the way the
 * batch DAG builds it (extract, then the batch selector's models, day by day),
 * with a catch-up run, a missed day, a backfill, re-runs of past days in reverse order and stream
 * events landing between runs, leaves every mart and analysis view with the same checksum as a
 * full refresh of the same raw data. Also: the daily runs are incremental, a product first seen
 * later reprices (or re-resolves) what was unknown, and dim_date follows the data, not the clock.
 *
 * Runs in a database of its own (`<suite database>_history`, migrated here), so the suite's
 * main dataset (dbt_test.ts) is untouched. Needs the Fake Store server and DBT_BIN, as the suite.
 */
import assert from "node:assert/strict";
import { Shop } from "../../workers/fakestore/shop.ts";
import { dayIndexOf } from "../../workers/fakestore/calendar.ts";
import {
  addDays,
  dbtRunner,
  env,
  expectSuccess,
  extract as extractInto,
  run,
  runResults,
  withClient,
} from "./support.ts";

const DATABASE = `${env("PGDATABASE")}_history`;
const dbEnv = { PGDATABASE: DATABASE, WAREHOUSE_DB: DATABASE };
const workDir = await Deno.makeTempDir({ prefix: "dbt-history-" });
const dbt = dbtRunner(workDir, dbEnv);
globalThis.addEventListener("unload", () => Deno.removeSync(workDir, { recursive: true }));

// Housekeeping excluded from the checksums: when a row was written (the watermark), which
// differs by design between rows merged day by day and rows of one full rebuild.
const HOUSEKEEPING = ["extracted_through"];

const ms = (day: string) => Date.parse(`${day}T00:00:00Z`);
const isoDay = (index: number) => new Date(Date.UTC(2024, 0, 1) + index * 86_400_000);
const dayOf = (index: number) => isoDay(index).toISOString().slice(0, 10);

/**
 * The first day D1 (from 2024-05-01) with a cart ordering a product that is listed on D1 and no
 * longer on D2: a run over [D1, D3), which sees the shop as of D2, lands that order with its
 * product unknown; re-running D1 alone lands the product and must reprice the order.
 */
function pickFirstDay(): { first: string; leaving: number; arriving: number } {
  const shop = new Shop({
    seed: Number(env("FAKESTORE_SEED", "42")),
    scale: Number(env("FAKESTORE_SCALE", "1")),
  });
  for (let day = dayIndexOf(ms("2024-05-01")); day < dayIndexOf(ms("2024-08-01")); day++) {
    const next = new Set(shop.products(day + 1).map((p) => p.id));
    const carts = shop.carts(
      { fromMs: isoDay(day).getTime(), toMs: isoDay(day + 1).getTime() },
      day,
    );
    const leaving = carts.flatMap((c) => c.products.map((l) => l.productId)).find((id) =>
      !next.has(id)
    );
    if (leaving === undefined) continue;
    // A product first listed on D5 (day + 4), for a stream event that names it a day early.
    const before = new Set(shop.products(day + 3).map((p) => p.id));
    const arriving = shop.products(day + 4).map((p) => p.id).find((id) => !before.has(id));
    if (arriving !== undefined) return { first: dayOf(day), leaving, arriving };
  }
  throw new Error("Picking a first day found no cart of a leaving product before 2024-08-01");
}

const { first: D1, leaving: LEAVING_PRODUCT, arriving: ARRIVING_PRODUCT } = pickFirstDay();
const D2 = addDays(D1, 1);
const D3 = addDays(D1, 2);
const D4 = addDays(D1, 3);
const D5 = addDays(D1, 4);
const D6 = addDays(D1, 5);

function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(
    "postgres",
    async (client) => (await client.query(sql, params)).rows as T[],
    DATABASE,
  );
}

async function freshDatabase(): Promise<void> {
  await withClient(
    "postgres",
    (client) => client.query(`drop database if exists "${DATABASE}" with (force)`),
  );
  expectSuccess(
    `migrate ${DATABASE}`,
    await run(Deno.execPath(), ["task", "-q", "migrate"], { env: dbEnv }),
  );
}

/**
 * One run of the batch DAG: extract [start, end), then the batch selector's tables. `dbt run`,
 * not the DAG's `dbt build --vars …`: the same models with the same materializations, without
 * the data tests (they change no row; dbt_test.ts runs them) and without the interval vars (no
 * model reads them, and new vars make dbt parse the whole project again). After the first run
 * the views are left out too: recreating a view with the same definition changes no row. That
 * keeps a day to a few seconds.
 */
async function batchRun(start: string, end: string, options = { views: false }): Promise<void> {
  await extractInto(start, end, dbEnv);
  const views = options.views ? [] : ["--exclude", "config.materialized:view"];
  expectSuccess(
    `dbt run --selector batch (${start}..${end})`,
    await dbt(["run", "--selector", "batch", ...views]),
  );
}

let eventOffset = 0;

/** Lands a paid stream order (item_added of each product, then order_paid) as the consumer does. */
async function landPaidOrder(userId: number, productIds: number[], at: string): Promise<void> {
  const orderId = crypto.randomUUID();
  const base = { schema_version: 1, order_id: orderId, user_id: userId };
  const events = [
    ...productIds.map((productId) => ({
      ...base,
      event_id: crypto.randomUUID(),
      event_type: "item_added",
      occurred_at: at,
      product_id: productId,
      quantity: 1,
      unit_price: 3.5,
    })),
    {
      ...base,
      event_id: crypto.randomUUID(),
      event_type: "order_paid",
      occurred_at: at,
      total_amount: 3.5 * productIds.length,
      payment_method: "card",
    },
  ];
  await withClient("loader", async (client) => {
    for (const event of events) {
      eventOffset += 1;
      await client.query(
        `insert into raw.order_events
             (event_id, payload, topic, kafka_partition, kafka_offset, message_key,
              kafka_timestamp, landed_at)
         values ($1, $2, 'order_events_history_test', 0, $3, $4, now(), now())`,
        [event.event_id, JSON.stringify(event), eventOffset, orderId],
      );
    }
  }, DATABASE);
}

/** count:md5 of every relation in marts and analysis, housekeeping columns left out. */
async function checksums(): Promise<Record<string, string>> {
  const relations = await query<{ schema: string; name: string; columns: string[] }>(
    `select table_schema as schema, table_name as name,
            array_agg(quote_ident(column_name::text) order by ordinal_position) as columns
       from information_schema.columns
      where table_schema in ('marts', 'analysis') and not (column_name = any($1))
      group by table_schema, table_name
      order by 1, 2`,
    [HOUSEKEEPING],
  );
  const sums: Record<string, string> = {};
  for (const { schema, name, columns } of relations) {
    const [row] = await query<{ sum: string }>(
      `select count(*) || ':' || coalesce(md5(string_agg(rendered, '|' order by rendered)), '-')
              as sum
         from (select row_to_json(picked)::text as rendered
                 from (select ${
        columns.join(", ")
      } from ${schema}.${name}) as picked) as rendered_rows`,
    );
    sums[`${schema}.${name}`] = row!.sum;
  }
  return sums;
}

async function rowsAffected(model: string): Promise<number> {
  const result = (await runResults(workDir)).find((r) => r.unique_id === `model.webshop.${model}`);
  const rows = result?.adapter_response?.rows_affected;
  assert.equal(typeof rows, "number", `${model} reports rows_affected`);
  return rows!;
}

async function count(relation: string, where = "true"): Promise<number> {
  const [row] = await query<{ n: string }>(`select count(*) as n from ${relation} where ${where}`);
  return Number(row!.n);
}

/** Product keys of the stream events naming `productId`. */
async function eventKeys(productId: number): Promise<string[]> {
  const rows = await query<{ product_key: string }>(
    `select distinct product_key from marts.fct_order_events where product_id = $1`,
    [productId],
  );
  return rows.map((r) => r.product_key);
}

Deno.test("backfills and re-runs in any order leave the marts equal to a full refresh", async () => {
  await freshDatabase();

  // A catch-up run over two days (as of D2): the D1 order of the product leaving on D2 is unknown.
  await batchRun(D1, D3, { views: true });
  const unknownLines = await count(
    "marts.fct_orders",
    `product_id = ${LEAVING_PRODUCT} and product_key = 'unknown' and unit_price is null`,
  );
  assert.ok(unknownLines > 0, `the D1 order of product ${LEAVING_PRODUCT} is unknown at first`);

  // A stream order names a product a day before the shop lists it: unknown until D5's run.
  await landPaidOrder(1, [ARRIVING_PRODUCT, 1], `${D4}T12:00:00.000Z`);
  // D3 is missed.
  await batchRun(D4, D5);
  assert.deepEqual(await eventKeys(ARRIVING_PRODUCT), ["unknown"]);

  await batchRun(D5, D6);
  // Incremental: D5's run wrote only the lines of the carts it landed, nothing older.
  const [d5] = await query<{ lines: string }>(
    `select count(*) as lines from raw.fakestore_carts as carts
      cross join jsonb_array_elements(carts.payload -> 'products') as line
      where carts.interval_start = $1`,
    [`${D5}T00:00:00Z`],
  );
  const d5Lines = Number(d5!.lines);
  assert.ok(d5Lines > 0);
  for (const model of ["int_cart_lines_unnested", "int_order_lines_priced", "fct_orders"]) {
    assert.equal(await rowsAffected(model), d5Lines, `${model} wrote only D5's lines`);
  }
  assert.ok(d5Lines < await count("marts.fct_orders"), "the table holds more than one day");
  // The product's first version re-resolved the event merged a day earlier.
  const resolved = await eventKeys(ARRIVING_PRODUCT);
  assert.equal(resolved.length, 1);
  assert.notEqual(resolved[0], "unknown");

  // Backfill the missed day, then re-run D2 and D1 (reverse order), events landing in between.
  await batchRun(D3, D4);
  await landPaidOrder(2, [LEAVING_PRODUCT], `${D1}T18:00:00.000Z`);
  await batchRun(D2, D3);
  await batchRun(D1, D2);
  // D1 alone sees the shop as of D1: the product is known now and its order is repriced.
  assert.equal(await count("marts.fct_orders", `product_key = 'unknown'`), 0);
  assert.ok(
    await count("marts.fct_orders", `product_id = ${LEAVING_PRODUCT} and unit_price is not null`) >=
      unknownLines,
  );
  assert.ok(!(await eventKeys(LEAVING_PRODUCT)).includes("unknown"));

  // A daily run after all that is incremental again.
  await batchRun(D6, addDays(D6, 1));
  assert.ok(await rowsAffected("fct_orders") < await count("marts.fct_orders"));

  const incremental = await checksums();
  assert.ok(Object.keys(incremental).length >= 11, Object.keys(incremental).join(", "));
  expectSuccess("dbt run --full-refresh", await dbt(["run", "--full-refresh"]));
  assert.deepEqual(await checksums(), incremental);
  assert.equal(await rowsAffected("fct_orders"), await count("marts.fct_orders"), "full rebuild");
});

Deno.test("dim_date spans the loaded data, not the clock", async () => {
  // Runs on the history the test above built (same database).
  const compiled = await Deno.readTextFile(
    `${workDir}/target/compiled/webshop/models/marts/dim_date.sql`,
  );
  assert.match(compiled, /generate_series/);
  assert.doesNotMatch(
    compiled,
    /\b(now|current_date|current_timestamp|localtimestamp|clock_timestamp|transaction_timestamp|statement_timestamp)\b/i,
  );
  const [expected] = await query<{ first_day: string; last_day: string }>(
    `select to_char(least(
                (select min(interval_start at time zone 'UTC') from audit.extract_runs
                  where status = 'succeeded'),
                (select min(cast(payload ->> 'date' as timestamptz) at time zone 'UTC')
                   from raw.fakestore_carts),
                (select min(cast(payload ->> 'occurred_at' as timestamptz) at time zone 'UTC')
                   from raw.order_events))::date, 'YYYY-MM-DD') as first_day,
            to_char(greatest(
                (select max(interval_end at time zone 'UTC') from audit.extract_runs
                  where status = 'succeeded'),
                (select max(landed_at at time zone 'UTC') from raw.order_events))::date + 365,
                'YYYY-MM-DD') as last_day`,
  );
  const [actual] = await query<{ first_day: string; last_day: string; days: string }>(
    `select to_char(min(date_day), 'YYYY-MM-DD') as first_day,
            to_char(max(date_day), 'YYYY-MM-DD') as last_day,
            count(*) filter (where not is_unknown_member) as days
       from marts.dim_date`,
  );
  assert.equal(actual!.first_day, expected!.first_day);
  assert.equal(actual!.last_day, expected!.last_day);
  assert.equal(
    Number(actual!.days),
    (ms(expected!.last_day) - ms(expected!.first_day)) / 86_400_000 + 1,
    "no day missing",
  );
});
