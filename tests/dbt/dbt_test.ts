/**
 * The dbt suite: builds a dataset ONCE from the project's Fake Store server (FAKESTORE_BASE_URL)
 * with the real extractor over several simulated days (prices change every day and one rotating
 * product disappears every day at any scale; one day's run is skipped, as a missed run), lands a
 * few stream events as the consumer would, runs `dbt build`, and then checks what analysts rely
 * on: every test and contract green, the schemas, the SCD2 history, the reconciliation with
 * raw, unknown members, the analysis views, grants, the stream fact's late events and look-back,
 * freshness as its own command, the interval guard, tests sized to the run (a daily run reads its
 * interval's rows, planted bad rows prove it), the full-refresh path and the docs lineage.
 *
 * Needs: a fresh migrated database (PGDATABASE), the Fake Store server, DBT_BIN; make test's
 * runner provides all three. Events are inserted as the `loader` role, exactly as the consumer
 * lands them (raw.order_events is the contract between the two; the consumer has its own suite).
 */
import assert from "node:assert/strict";
import {
  addDays,
  dbtRunner,
  doneLine,
  expectSuccess,
  extract,
  runResults,
  withClient,
} from "./support.ts";
import { plantBadRows, PLANTED_FAILURES, removeBadRows } from "./planted.ts";

const FIRST_DAY = "2024-03-01";
const DAYS = 9;
const SKIPPED_DAY = "2024-03-05"; // a missed daily run: no snapshot, no carts
const LAST_DAY = addDays(FIRST_DAY, DAYS - 1);
const TOPIC = "order_events_dbt_suite";
const UNKNOWN_PRODUCT = 99_999;
const UNKNOWN_USER = 424_242;
/** Raw product snapshots, one row per product per interval: the manifest ⨝ its payloads. */
const RAW_PRODUCTS = `(select m.record_id, m.interval_start, p.payload
  from raw.fakestore_product_manifest as m
  inner join raw.fakestore_product_payloads as p using (payload_id))`;

const workDir = await Deno.makeTempDir({ prefix: "dbt-suite-" });
const dbt = dbtRunner(workDir);
globalThis.addEventListener("unload", () => {
  // dbt's target/ and logs/ of this run; the suite's output already holds what failed.
  Deno.removeSync(workDir, { recursive: true });
});

// ---- stream events, shaped like contract v1 ------------------------------------------------

interface Landed {
  event: Record<string, unknown>;
  landedMinutesAgo?: number;
}

let offset = 0;

function order(
  userId: number,
  lines: Array<{ productId: number; quantity: number; unitPrice: number }>,
  ending: { type: "order_paid" | "order_cancelled"; at: string },
): Landed[] {
  const orderId = crypto.randomUUID();
  const at = Date.parse(ending.at);
  const common = (type: string, minutesBefore: number) => ({
    schema_version: 1,
    event_id: crypto.randomUUID(),
    event_type: type,
    order_id: orderId,
    user_id: userId,
    occurred_at: new Date(at - minutesBefore * 60_000).toISOString(),
  });
  const total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
  return [
    { event: { ...common("order_created", 10), channel: "web" } },
    ...lines.map((line, i) => ({
      event: {
        ...common("item_added", 9 - i),
        product_id: line.productId,
        quantity: line.quantity,
        unit_price: line.unitPrice,
      },
    })),
    {
      event: ending.type === "order_paid"
        ? {
          ...common("order_paid", 0),
          total_amount: Math.round(total * 100) / 100,
          payment_method: "card",
        }
        : { ...common("order_cancelled", 0), reason: "changed my mind" },
    },
  ];
}

async function land(events: Landed[]): Promise<void> {
  await withClient("loader", async (client) => {
    for (const { event, landedMinutesAgo } of events) {
      offset += 1;
      await client.query(
        `insert into raw.order_events
             (event_id, payload, topic, kafka_partition, kafka_offset, message_key,
              kafka_timestamp, landed_at)
         values ($1, $2, $3, 0, $4, $5, now(), now() - make_interval(mins => $6))`,
        [
          event.event_id,
          JSON.stringify(event),
          TOPIC,
          offset,
          event.order_id,
          landedMinutesAgo ?? 0,
        ],
      );
    }
  });
}

// ---- the dataset, built once ---------------------------------------------------------------

let buildOutput = "";

const dataset = (async () => {
  for (let day = 0; day < DAYS; day++) {
    const start = addDays(FIRST_DAY, day);
    if (start === SKIPPED_DAY) continue;
    await extract(start, addDays(start, 1));
  }
  await land([
    // paid, with one product the history never saw
    ...order(1, [
      { productId: 1, quantity: 2, unitPrice: 10 },
      { productId: UNKNOWN_PRODUCT, quantity: 1, unitPrice: 5.55 },
    ], { type: "order_paid", at: "2024-03-03T12:05:00.000Z" }),
    // cancelled: never revenue
    ...order(2, [{ productId: 2, quantity: 1, unitPrice: 20 }], {
      type: "order_cancelled",
      at: "2024-03-04T08:00:00.000Z",
    }),
    // paid by a user the history never saw
    ...order(UNKNOWN_USER, [{ productId: 3, quantity: 1, unitPrice: 7.25 }], {
      type: "order_paid",
      at: "2024-03-04T09:00:00.000Z",
    }),
  ]);
  // A full run, as `make transform`: no interval vars, every test over the whole history.
  const built = expectSuccess("dbt build", await dbt(["build"]));
  buildOutput = built.output;
  // make test's runner adds dbt's own counts (data tests, unit tests, models) to the suite's.
  console.log(doneLine(built.output) ?? "dbt build printed no summary");
})();

const ANALYSIS_VIEWS = [
  "top_revenue_products",
  "top_revenue_categories",
  "purchases_per_user",
  "daily_order_trend",
  "stream_events_per_minute",
  "stream_dead_letters_by_class",
];

function test(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    fn: async () => {
      await dataset;
      await fn();
    },
  });
}

// ---- the build -----------------------------------------------------------------------------

test("dbt build passes every model, contract, data test and unit test", async () => {
  const results = await runResults(workDir);
  const byStatus = (status: string) => results.filter((r) => r.status === status);
  assert.deepEqual(
    results.filter((r) => !["success", "pass", "warn", "no-op"].includes(r.status))
      .map((r) => r.unique_id),
    [],
  );
  // Only the orphan tests may warn, and here they must: the stream names an unknown product/user.
  const warned = byStatus("warn").map((r) => r.unique_id.split(".")[2]).sort();
  assert.deepEqual(warned, ["fct_order_events_orphan_products", "fct_order_events_orphan_users"]);
  const unitTests = results.filter((r) => r.unique_id.startsWith("unit_test."));
  assert.ok(unitTests.length >= 8, `expected the unit tests to run, got ${unitTests.length}`);
  const reconciliation = results.find((r) =>
    r.unique_id.endsWith(".assert_fct_orders_reconciles_with_raw")
  );
  assert.equal(reconciliation?.status, "pass");
  assert.match(doneLine(buildOutput) ?? "", /ERROR=0 SKIP=0/);
});

test("models land in exactly staging, intermediate, marts and analysis", async () => {
  await withClient("postgres", async (client) => {
    const { rows } = await client.query<{ schema: string; name: string; kind: string }>(
      `select n.nspname as schema, c.relname as name, c.relkind as kind
         from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
        where pg_get_userbyid(c.relowner) = 'transformer' and c.relkind in ('r', 'v')`,
    );
    const schemaOf = (name: string) => rows.find((r) => r.name === name)?.schema;
    for (const row of rows) {
      const expected = row.name.startsWith("stg_")
        ? "staging"
        : row.name.startsWith("int_")
        ? "intermediate"
        : row.name.startsWith("dim_") || row.name.startsWith("fct_")
        ? "marts"
        : "analysis";
      assert.equal(row.schema, expected, `${row.name} is in ${row.schema}`);
    }
    for (const view of ANALYSIS_VIEWS) assert.equal(schemaOf(view), "analysis");
    for (
      const mart of [
        "dim_products",
        "dim_users",
        "dim_date",
        "fct_orders",
        "fct_order_events",
      ]
    ) {
      assert.equal(rows.find((r) => r.name === mart)?.kind, "r", `${mart} is a table`);
    }
    for (const view of ["fct_sales", "fct_user_lifetime"]) {
      assert.equal(rows.find((r) => r.name === view)?.kind, "v", `${view} is a view`);
    }
    const schemas = await client.query<{ nspname: string }>(
      `select nspname from pg_namespace
        where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public')
        order by 1`,
    );
    assert.deepEqual(schemas.rows.map((r) => r.nspname), [
      "analysis",
      "audit",
      "intermediate",
      "marts",
      "raw",
      "staging",
    ]);
    const indexes = await client.query<{ indexdef: string }>(
      `select indexdef from pg_indexes where schemaname = 'marts' and tablename = 'fct_orders'`,
    );
    for (const column of ["date_key", "product_key", "user_key", "order_date"]) {
      assert.ok(indexes.rows.some((r) => r.indexdef.includes(`(${column})`)), column);
    }
    const analyzed = await client.query(
      `select 1 from pg_stat_user_tables
        where schemaname = 'marts' and relname = 'fct_orders' and last_analyze is not null`,
    );
    assert.equal(analyzed.rowCount, 1, "the post-hook analyzed fct_orders");
  });
});

// ---- history ---------------------------------------------------------------------------------

test("a price change starts a new product version at the interval it was first seen", async () => {
  await withClient("postgres", async (client) => {
    const change = await client.query<
      { product_id: string; changed_at: Date; price: string; previous: string }
    >(
      `select record_id as product_id, interval_start as changed_at, price, previous
         from (select record_id, interval_start, payload ->> 'price' as price,
                      lag(payload ->> 'price') over (partition by record_id order by interval_start)
                          as previous
                 from ${RAW_PRODUCTS} as products) as observed
        where previous is not null and previous::numeric <> price::numeric
        order by interval_start, record_id limit 1`,
    );
    assert.equal(change.rowCount, 1, "the server changes prices every day");
    const { product_id, changed_at, price, previous } = change.rows[0]!;
    const versions = await client.query<{ price: string; valid_from: Date; valid_to: Date | null }>(
      `select price::text, valid_from, valid_to from marts.dim_products
        where product_id = $1 order by valid_from`,
      [product_id],
    );
    const at = versions.rows.findIndex((v) => v.valid_from.getTime() === changed_at.getTime());
    assert.ok(at > 0, "the change opened a version after an earlier one");
    assert.equal(Number(versions.rows[at]!.price), Number(price));
    assert.equal(Number(versions.rows[at - 1]!.price), Number(previous));
    assert.equal(versions.rows[at - 1]!.valid_to?.getTime(), changed_at.getTime());
  });
});

test("a product missing from a complete load closes at that load, not at a skipped day", async () => {
  await withClient("postgres", async (client) => {
    const gone = await client.query<{ product_id: string; gone_at: Date }>(
      `with intervals as (
           select distinct interval_start from raw.fakestore_product_manifest
       ), last_seen as (
           select record_id, max(interval_start) as last_at
             from raw.fakestore_product_manifest group by record_id
       )
       select last_seen.record_id as product_id,
              (select min(interval_start) from intervals where interval_start > last_at) as gone_at
         from last_seen
        where last_at < (select max(interval_start) from intervals)
        order by last_at`,
    );
    assert.ok(gone.rowCount! >= 2, "rotating products disappear every day");
    for (const { product_id, gone_at } of gone.rows) {
      const versions = await client.query<{ valid_to: Date | null; is_current: boolean }>(
        `select valid_to, is_current from marts.dim_products
          where product_id = $1 order by valid_from desc`,
        [product_id],
      );
      assert.equal(
        versions.rows[0]!.valid_to?.getTime(),
        gone_at.getTime(),
        `product ${product_id}`,
      );
      assert.ok(versions.rows.every((v) => !v.is_current));
    }
    // The day after the skipped run is where products that left on the skipped day close.
    const afterSkip = Date.parse(`${addDays(SKIPPED_DAY, 1)}T00:00:00Z`);
    assert.ok(gone.rows.some((r) => r.gone_at.getTime() === afterSkip));
    const closedOnSkipped = await client.query(
      `select 1 from marts.dim_products where valid_to = $1::timestamptz`,
      [`${SKIPPED_DAY}T00:00:00Z`],
    );
    assert.equal(closedOnSkipped.rowCount, 0, "no version can end at a load that never ran");
  });
});

// ---- facts -----------------------------------------------------------------------------------

test("fct_orders equals the raw cart lines × the landed product price", async () => {
  await withClient("postgres", async (client) => {
    // Daily runs: a cart and the product snapshot it is priced from share an interval.
    const raw = await client.query<{ lines: string; revenue: string; unpriced: string }>(
      `select count(*) as lines,
              sum(cast(line ->> 'quantity' as integer) * cast(products.payload ->> 'price' as numeric))
                  as revenue,
              count(*) filter (where products.record_id is null) as unpriced
         from raw.fakestore_carts as carts
        cross join jsonb_array_elements(carts.payload -> 'products') as line
         left join ${RAW_PRODUCTS} as products
           on products.interval_start = carts.interval_start
          and products.record_id = cast(line ->> 'productId' as bigint)`,
    );
    const modelled = await client.query<{ lines: string; revenue: string }>(
      `select count(*) as lines, sum(revenue) as revenue from marts.fct_orders`,
    );
    assert.equal(raw.rows[0]!.unpriced, "0");
    assert.ok(Number(raw.rows[0]!.lines) > 5);
    assert.equal(modelled.rows[0]!.lines, raw.rows[0]!.lines);
    assert.equal(modelled.rows[0]!.revenue, raw.rows[0]!.revenue);
    const sales = await client.query<{ revenue: string }>(
      `select sum(revenue) as revenue from marts.fct_sales where source = 'batch'`,
    );
    assert.equal(sales.rows[0]!.revenue, raw.rows[0]!.revenue);
  });
});

test("unknown products and users map to the unknown members", async () => {
  await withClient("postgres", async (client) => {
    const { rows } = await client.query<
      {
        product_key: string | null;
        user_key: string;
        event_type: string;
        product_id: string | null;
        user_id: string;
      }
    >(
      `select product_key, user_key, event_type, product_id, user_id from marts.fct_order_events`,
    );
    const unknownItem = rows.find((r) => r.product_id === String(UNKNOWN_PRODUCT));
    assert.equal(unknownItem?.product_key, "unknown");
    assert.ok(
      rows.filter((r) => r.user_id === String(UNKNOWN_USER)).every((r) => r.user_key === "unknown"),
    );
    assert.ok(
      rows.filter((r) => r.event_type !== "item_added").every((r) => r.product_key === null),
    );
    assert.ok(rows.filter((r) => r.user_id === "1").every((r) => r.user_key !== "unknown"));
    const members = await client.query(
      `select 1 from marts.dim_products where product_key = 'unknown' and is_unknown_member
       union all
       select 1 from marts.dim_users where user_key = 'unknown' and is_unknown_member
       union all
       select 1 from marts.dim_date where date_key = -1 and is_unknown_member`,
    );
    assert.equal(members.rowCount, 3);
  });
});

test("fct_user_lifetime sums each user's paid sales of both sources, and nothing else", async () => {
  await withClient("postgres", async (client) => {
    // The unknown user's only order: one paid stream order of 1 × 7.25 (see the dataset).
    const unknown = await client.query(
      `select order_count, item_count, revenue, first_ordered_at, last_ordered_at
         from marts.fct_user_lifetime where user_id = $1`,
      [UNKNOWN_USER],
    );
    const paidAt = new Date("2024-03-04T09:00:00.000Z");
    assert.deepEqual(unknown.rows, [{
      order_count: "1",
      item_count: "1",
      revenue: "7.25",
      first_ordered_at: paidAt,
      last_ordered_at: paidAt,
    }]);
    const totals = await client.query<Record<string, string>>(
      `select (select count(*) from marts.fct_user_lifetime) as users,
              (select count(distinct user_id) from marts.fct_sales) as sales_users,
              (select sum(order_count) from marts.fct_user_lifetime) as orders,
              (select count(distinct (source, order_id)) from marts.fct_sales) as sales_orders,
              (select sum(revenue) from marts.fct_user_lifetime) as revenue,
              (select sum(revenue) from marts.fct_sales) as sales_revenue`,
    );
    const t = totals.rows[0]!;
    assert.ok(Number(t.users) > 1, "batch carts and stream orders of several users");
    assert.deepEqual(
      [t.users, t.orders, t.revenue],
      [t.sales_users, t.sales_orders, t.sales_revenue],
    );
    const dimColumns = await client.query(
      `select column_name from information_schema.columns
        where table_schema = 'marts' and table_name = 'dim_users' and column_name like '%order%'`,
    );
    assert.equal(dimColumns.rowCount, 0, "dim_users carries no purchase figures");
  });
});

// ---- analysis --------------------------------------------------------------------------------

test("the analysis views answer their questions, with the source visible", async () => {
  await withClient("postgres", async (client) => {
    // purchases per user: every known user, with zeros, plus the unknown one who bought
    const users = await client.query<
      { user_id: string; order_count: string; revenue: string; is_unknown_user: boolean }
    >(
      `select user_id, order_count, revenue, is_unknown_user
         from analysis.purchases_per_user where source = 'all'`,
    );
    const known = await client.query<{ n: string }>(
      `select count(distinct user_id) as n from marts.dim_users where not is_unknown_member`,
    );
    assert.equal(users.rowCount, Number(known.rows[0]!.n) + 1);
    assert.ok(
      users.rows.some((u) => u.order_count === "0" && u.revenue === "0"),
      "zero-order users",
    );
    assert.ok(users.rows.some((u) => u.user_id === String(UNKNOWN_USER) && u.is_unknown_user));
    const sources = await client.query<{ source: string }>(
      `select distinct source from analysis.purchases_per_user order by 1`,
    );
    assert.deepEqual(sources.rows.map((r) => r.source), ["all", "batch", "stream"]);

    // daily trend: the skipped day is a gap day with zeros; all = batch + stream every day
    const trend = await client.query<
      {
        source: string;
        day: string;
        order_count: string;
        revenue: string;
        revenue_7d_avg: string;
        days_in_window: string;
      }
    >(
      `select source, to_char(date_day, 'YYYY-MM-DD') as day, order_count, revenue,
              revenue_7d_avg, days_in_window
         from analysis.daily_order_trend order by source, date_day`,
    );
    const day = (source: string, date: string) =>
      trend.rows.find((r) => r.source === source && r.day === date);
    assert.deepEqual(
      [day("batch", SKIPPED_DAY)?.order_count, day("batch", SKIPPED_DAY)?.revenue],
      ["0", "0"],
    );
    assert.equal(Number(day("stream", "2024-03-03")?.revenue), 25.55);
    assert.equal(
      day("stream", "2024-03-04")?.revenue,
      "7.25",
      "the cancelled order is not revenue",
    );
    const days = trend.rows.filter((r) => r.source === "all");
    for (const row of days) {
      const sum = Number(day("batch", row.day)!.revenue) + Number(day("stream", row.day)!.revenue);
      assert.ok(Math.abs(Number(row.revenue) - sum) < 1e-9, row.day);
    }
    // 7-calendar-day moving average, recomputed here from the daily values
    const last = days.at(-1)!;
    const window = days.slice(-7);
    const expected = window.reduce((s, r) => s + Number(r.revenue), 0) / window.length;
    assert.equal(Number(last.days_in_window), Math.min(7, days.length));
    assert.ok(Math.abs(Number(last.revenue_7d_avg) - expected) < 1e-9);

    // top revenue: ranks per source; unknown product visible; all = every sale
    const products = await client.query<
      {
        source: string;
        product_id: string;
        product_title: string;
        revenue_rank: string;
        revenue: string;
      }
    >(
      `select source, product_id, product_title, revenue_rank, revenue
         from analysis.top_revenue_products order by source, revenue_rank`,
    );
    const unknown = products.rows.find((r) =>
      r.source === "stream" && r.product_id === String(UNKNOWN_PRODUCT)
    );
    assert.equal(unknown?.product_title, "Unknown product");
    assert.equal(products.rows.find((r) => r.source === "all")?.revenue_rank, "1");
    const totals = await client.query<{ products: string; categories: string; sales: string }>(
      `select (select sum(revenue) from analysis.top_revenue_products where source = 'all') as products,
              (select sum(revenue) from analysis.top_revenue_categories where source = 'all') as categories,
              (select sum(revenue) from marts.fct_sales) as sales`,
    );
    assert.equal(totals.rows[0]!.products, totals.rows[0]!.sales);
    assert.equal(totals.rows[0]!.categories, totals.rows[0]!.sales);
  });
});

test("the analyst reads every mart and analysis view, and nothing in staging", async () => {
  await withClient("analyst", async (client) => {
    for (
      const relation of [
        ...ANALYSIS_VIEWS.map((v) => `analysis.${v}`),
        "marts.dim_products",
        "marts.dim_users",
        "marts.dim_date",
        "marts.fct_orders",
        "marts.fct_order_events",
        "marts.fct_sales",
        "marts.fct_user_lifetime",
      ]
    ) {
      const { rowCount } = await client.query(`select * from ${relation} limit 1`);
      assert.equal(rowCount, 1, relation);
    }
    await assert.rejects(
      client.query("select email from staging.stg_fakestore__users limit 1"),
      /permission denied/,
    );
    const columns = await client.query(
      `select column_name from information_schema.columns
        where table_schema in ('marts', 'analysis') and column_name in ('email', 'phone', 'password')`,
    );
    assert.equal(columns.rowCount, 0, "no contact data past staging");
  });
});

// ---- the stream fact --------------------------------------------------------------------------

test("a late event landed after a build is in the fact after the next stream build", async () => {
  const late = order(3, [{ productId: 4, quantity: 3, unitPrice: 4 }], {
    type: "order_paid",
    at: "2024-03-02T08:00:00.000Z", // days older than everything already merged
  });
  // A consumer transaction that began 30 minutes ago and committed after the last build:
  // its landed_at is behind the fact's watermark, inside the look-back.
  const slow = order(1, [{ productId: 5, quantity: 1, unitPrice: 100 }], {
    type: "order_paid",
    at: "2024-03-06T10:00:00.000Z",
  }).map((landed) => ({ ...landed, landedMinutesAgo: 30 }));
  await land([...late, ...slow]);
  const ids = [...late, ...slow].map((l) => l.event.event_id as string);
  const present = () =>
    withClient(
      "postgres",
      async (client) =>
        (await client.query(`select 1 from marts.fct_order_events where event_id = any($1)`, [ids]))
          .rowCount,
    );
  assert.equal(await present(), 0);
  expectSuccess("dbt build --selector stream", await dbt(["build", "--selector", "stream"]));
  assert.equal(await present(), ids.length);
  // The stream run recreates the staging views; the dead-letter view reading one must survive.
  await withClient("analyst", async (client) => {
    const classes = await client.query<{ error_class: string }>(
      `select error_class from analysis.stream_dead_letters_by_class order by error_class`,
    );
    assert.deepEqual(classes.rows.map((r) => r.error_class), ["oversize", "parse", "schema"]);
  });
  await withClient("postgres", async (client) => {
    const trend = await client.query<{ revenue: string }>(
      `select revenue from analysis.daily_order_trend where source = 'stream' and date_day = '2024-03-02'`,
    );
    assert.equal(trend.rows[0]?.revenue, "12", "the views read the merged events at once");
    const before = await client.query<{ n: string }>(
      `select count(*) as n from marts.fct_order_events`,
    );
    expectSuccess(
      "dbt build --selector stream (again)",
      await dbt(["build", "--selector", "stream"]),
    );
    const after = await client.query<{ n: string }>(
      `select count(*) as n from marts.fct_order_events`,
    );
    assert.equal(
      after.rows[0]!.n,
      before.rows[0]!.n,
      "re-reading the look-back merges, never duplicates",
    );
  });
});

// ---- commands ------------------------------------------------------------------------------

test("source freshness runs as its own command", async () => {
  const finished = expectSuccess("dbt source freshness", await dbt(["source", "freshness"]));
  assert.match(finished.output, /freshness of fakestore\.products/);
  assert.match(finished.output, /freshness of kafka\.order_events/);
});

test("the interval guard fails a build for an interval no succeeded run covered", async () => {
  const vars = `{interval_start: "${SKIPPED_DAY}", interval_end: "${addDays(SKIPPED_DAY, 1)}"}`;
  const finished = await dbt(["test", "--select", "assert_interval_loaded", "--vars", vars]);
  assert.notEqual(finished.code, 0, finished.output.slice(-2000));
  assert.match(finished.output, /FAIL 1 assert_interval_loaded/);
});

// ---- tests sized to the run (docs/decisions/0038) -------------------------------------------

// The vars the batch DAG passes for the last day's run.
const LAST_DAY_VARS = `{interval_start: "${LAST_DAY}T00:00:00Z", interval_end: "${
  addDays(LAST_DAY, 1)
}T00:00:00Z"}`;
// The daily run's test selection (the batch selector leaves out tag:full_history), narrowed to
// the models the planted rows are in, plus the interval guard.
const PLANTED_MODELS = ["fct_orders", "int_cart_lines_unnested", "assert_interval_loaded"];
const DAILY = ["--exclude", "tag:full_history", "--vars", LAST_DAY_VARS];
const RECONCILIATION = "assert_fct_orders_reconciles_with_raw";

/** `dbt test` of the planted models with `args`: its exit code and each test's status by name. */
async function testPlantedModels(
  args: string[],
): Promise<{ code: number; output: string; status: Record<string, string> }> {
  const finished = await dbt(["test", "--select", ...PLANTED_MODELS, ...args]);
  const results = await runResults(workDir);
  const status = Object.fromEntries(results.map((r) => [r.unique_id.split(".")[2], r.status]));
  return { code: finished.code, output: finished.output, status };
}

test("a daily run tests its interval's rows; a full run tests every row", async () => {
  try {
    // A bad row inside the day the run built: the daily run fails, naming the tests.
    await plantBadRows(LAST_DAY);
    const inside = await testPlantedModels(DAILY);
    assert.notEqual(inside.code, 0, inside.output.slice(-3000));
    for (const name of PLANTED_FAILURES) assert.equal(inside.status[name], "fail", name);
    assert.equal(inside.status.assert_interval_loaded, "pass", "the day was loaded");
    assert.equal(inside.status[RECONCILIATION], undefined, "no full-history test in a daily run");

    // The same rows on an older day: the daily run passes, the full run (no vars) fails.
    await removeBadRows();
    await plantBadRows(FIRST_DAY);
    const outside = await testPlantedModels(DAILY);
    assert.equal(outside.code, 0, outside.output.slice(-3000));
    for (const name of PLANTED_FAILURES) assert.equal(outside.status[name], "pass", name);
    const full = await testPlantedModels([]);
    assert.notEqual(full.code, 0, full.output.slice(-3000));
    for (const name of PLANTED_FAILURES) assert.equal(full.status[name], "fail", name);
    assert.equal(full.status[RECONCILIATION], "fail", "the reconciliation sees the planted line");
  } finally {
    await removeBadRows();
  }
});

const HISTORY_MODELS = ["int_products_versioned", "int_users_versioned"];

function fingerprint(): Promise<Record<string, string>> {
  return withClient("postgres", async (client) => {
    const prints: Record<string, string> = {};
    for (const model of HISTORY_MODELS) {
      const { rows } = await client.query<{ print: string }>(
        // extracted_through says when a row was written: bookkeeping, not history
        `select count(*) || ':' || md5(string_agg(picked, '|' order by picked)) as print
           from (select (to_jsonb(history) - 'extracted_through')::text as picked
                   from intermediate.${model} as history) as histories`,
      );
      prints[model] = rows[0]!.print;
    }
    return prints;
  });
}

test("an incremental batch run after a new day matches a rebuild from raw", async () => {
  await extract(addDays(LAST_DAY, 1), addDays(LAST_DAY, 2));
  expectSuccess("dbt build --selector batch", await dbt(["build", "--selector", "batch"]));
  const incremental = await fingerprint();
  expectSuccess(
    "dbt run --full-refresh (history)",
    await dbt(["run", "--full-refresh", "--select", ...HISTORY_MODELS]),
  );
  assert.deepEqual(await fingerprint(), incremental);
});

test("a re-run of an already processed day derives the history again", async () => {
  // A stale row only a re-derivation removes (no run would ever produce it).
  await withClient("postgres", (client) =>
    client.query(
      `insert into intermediate.int_products_versioned
           (product_key, product_id, payload_hash, price, version_number, is_current, valid_from,
            lookup_from, lookup_to, last_seen_at, last_extracted_at)
       values ('stale', 424242, 'x', 1, 1, true, '2020-01-01', '-infinity', 'infinity',
               '2020-01-01', '2020-01-01')`,
    ));
  await extract("2024-03-03", "2024-03-04");
  expectSuccess("dbt build --selector batch", await dbt(["build", "--selector", "batch"]));
  const rederived = await fingerprint();
  expectSuccess(
    "dbt run --full-refresh (history)",
    await dbt(["run", "--full-refresh", "--select", ...HISTORY_MODELS]),
  );
  assert.deepEqual(await fingerprint(), rederived);
});

test("a full refresh rebuilds everything from raw to the same figures", async () => {
  const snapshot = () =>
    withClient("postgres", async (client) =>
      (await client.query(
        `select (select count(*) from marts.fct_orders) as lines,
                (select sum(revenue) from marts.fct_sales) as revenue,
                (select count(*) from marts.fct_order_events) as events,
                (select count(*) from marts.dim_products) as product_versions`,
      )).rows[0]);
  const before = await snapshot();
  expectSuccess("dbt build --full-refresh", await dbt(["build", "--full-refresh"]));
  assert.deepEqual(await snapshot(), before);
});

test("the docs site's lineage runs from the raw tables to the analysis views", async () => {
  expectSuccess("dbt docs generate", await dbt(["docs", "generate"]));
  const manifest = JSON.parse(await Deno.readTextFile(`${workDir}/target/manifest.json`)) as {
    child_map: Record<string, string[]>;
  };
  await Deno.stat(`${workDir}/target/catalog.json`);
  const reachable = (from: string): Set<string> => {
    const seen = new Set<string>();
    const queue = [from];
    while (queue.length) {
      for (const child of manifest.child_map[queue.pop()!] ?? []) {
        if (!seen.has(child)) {
          seen.add(child);
          queue.push(child);
        }
      }
    }
    return seen;
  };
  // The dead-letter view reads only the dead letters: no product or event is in it.
  const deadLetters = "stream_dead_letters_by_class";
  for (const source of ["source.webshop.fakestore.products", "source.webshop.kafka.order_events"]) {
    const downstream = reachable(source);
    for (const view of ANALYSIS_VIEWS.filter((v) => v !== deadLetters)) {
      assert.ok(downstream.has(`model.webshop.${view}`), `${source} → ${view}`);
    }
    assert.ok([...downstream].some((id) => id.startsWith("exposure.webshop.")));
  }
  const fromDeadLetters = reachable("source.webshop.kafka.order_events_dead_letters");
  assert.ok(fromDeadLetters.has(`model.webshop.${deadLetters}`), `dead letters → ${deadLetters}`);
  assert.ok(fromDeadLetters.has("exposure.webshop.webshop"), "dead letters → the dashboard");
});
