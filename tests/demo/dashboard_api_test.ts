/**
 * The dashboard `webshop` through Superset's API, as a client of the chart-data API sees it:
 * every chart answers with rows from its saved query context, and the daily-trend and
 * top-products charts show exactly the figures of the analysis views for the same filters.
 * Needs the running instance's Superset (SUPERSET_PORT) and warehouse (PGPORT, WAREHOUSE_DB).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type DashboardChart, Superset } from "./superset.ts";
import { readView } from "./warehouse.ts";
import {
  type DayRange,
  figureMismatches,
  keptRows,
  type QueryContext,
  rawQueryContext,
} from "./figures.ts";

const DASHBOARD = "webshop";

let session: Promise<{ superset: Superset; charts: DashboardChart[] }> | undefined;
/** One login and one chart list for every test of this module. */
function dashboard(): Promise<{ superset: Superset; charts: DashboardChart[] }> {
  session ??= Superset.login().then(async (superset) => ({
    superset,
    charts: await superset.dashboardCharts(DASHBOARD),
  }));
  return session;
}

Deno.test("every chart of the dashboard returns rows through GET /api/v1/chart/<id>/data/", async () => {
  const { superset, charts } = await dashboard();
  assert(charts.length > 0, `dashboard ${DASHBOARD} has no charts`);
  const problems: string[] = [];
  for (const chart of charts) {
    const name = `chart ${chart.id} "${chart.slice_name}"`;
    const saved = await superset.savedQuery(chart.id);
    if (!saved.queryContext) {
      problems.push(`${name} has no saved query context`);
      continue;
    }
    try {
      const results = await superset.chartData(chart.id);
      if (results.length === 0) problems.push(`${name} answered no query result`);
      for (const result of results) {
        if (result.error) problems.push(`${name} failed: ${result.error}`);
        else if (!(result.rowcount > 0)) problems.push(`${name} returned ${result.rowcount} rows`);
      }
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
    }
  }
  assertEquals(problems, []);
});

/** The last 7 days the view covers (ISO dates, end exclusive), read from its day column. */
function lastSevenDays(days: (string | null)[]): DayRange {
  const last = days.filter((d): d is string => d !== null).sort().at(-1);
  if (!last) throw new Error("Reading the day range: the view has no days");
  const day = (offset: number) =>
    new Date(Date.parse(`${last.slice(0, 10)}T00:00:00Z`) + offset * 86_400_000)
      .toISOString().slice(0, 10);
  return { from: day(-6), to: day(1) };
}

/**
 * Compares each chart of the dashboard that reads analysis.<view> with the view: the chart's
 * saved query run raw (no post-processing) with the day range `range` picks on the view rows.
 */
async function assertFiguresEqualView(
  view: string,
  range: (rows: Record<string, string | null>[]) => DayRange | null,
): Promise<void> {
  const { superset, charts } = await dashboard();
  const problems: string[] = [];
  let compared = 0;
  for (const chart of charts) {
    const saved = await superset.savedQuery(chart.id);
    const table = await superset.datasetTable(saved.datasetId);
    if (table.schema !== "analysis" || table.table_name !== view || !saved.queryContext) continue;
    compared += 1;
    const rows = await readView(view, table.calculated);
    const days = range(rows);
    const raw = rawQueryContext(JSON.parse(saved.queryContext) as QueryContext, days);
    const results = await superset.queryData(raw);
    raw.queries.forEach((query, i) => {
      const shown = results[i]?.data ?? [];
      if (shown.length === 0) problems.push(`chart ${chart.id} "${chart.slice_name}": no rows`);
      console.log(
        `  chart "${chart.slice_name}": ${shown.length} rows compared with analysis.${view}`,
      );
      for (const problem of figureMismatches(query, shown, keptRows(rows, query, days))) {
        problems.push(`chart ${chart.id} "${chart.slice_name}": ${problem}`);
      }
    });
  }
  assert(compared > 0, `no chart of dashboard ${DASHBOARD} reads analysis.${view}`);
  assertEquals(problems, []);
}

Deno.test("the daily-trend charts show the figures of analysis.daily_order_trend for the last 7 days", () =>
  assertFiguresEqualView(
    "daily_order_trend",
    (rows) => lastSevenDays(rows.map((r) => r.date_day ?? null)),
  ));

Deno.test("the top-products charts show the figures of analysis.top_revenue_products", () =>
  assertFiguresEqualView("top_revenue_products", () => null));
