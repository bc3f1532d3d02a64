import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { figureMismatches, keptRows, type Query, rawQueryContext } from "./figures.ts";

const trend: Query = {
  columns: [
    { columnType: "BASE_AXIS", sqlExpression: "date_day", label: "date_day", timeGrain: "P1D" },
    "source",
  ],
  metrics: [{ expressionType: "SIMPLE", column: { column_name: "revenue" }, aggregate: "SUM" }],
  filters: [
    { col: "date_day", op: "TEMPORAL_RANGE", val: "No filter" },
    { col: "source", op: "IN", val: ["batch", "all"] },
  ],
  post_processing: [{ operation: "pivot" }],
};
trend.metrics = [{ ...trend.metrics![0] as object, label: "revenue" }];

const view = [
  { date_day: "2026-11-26", source: "batch", revenue: "10.50" },
  { date_day: "2026-11-27", source: "batch", revenue: "0.00" },
  { date_day: "2026-11-27", source: "stream", revenue: "3.00" },
  { date_day: "2026-11-27", source: "all", revenue: "3.00" },
];
const days = { from: "2026-11-27", to: "2026-11-28" };
const day27 = Date.UTC(2026, 10, 27);

Deno.test("the raw query drops post-processing and filters the time axis to the day range", () => {
  const [query] = rawQueryContext({ queries: [trend] }, days).queries;
  assertEquals(query!.post_processing, []);
  assertEquals(query!.filters, [
    { col: "source", op: "IN", val: ["batch", "all"] },
    { col: "date_day", op: "TEMPORAL_RANGE", val: "2026-11-27 : 2026-11-28" },
  ]);
});

Deno.test("the view rows kept are those the chart's filters and the day range keep", () => {
  assertEquals(keptRows(view, trend, days), [view[1], view[3]]);
  const cheap = { ...trend, filters: [{ col: "revenue", op: "<=", val: 3 }] };
  assertEquals(keptRows(view, cheap, null), [view[1], view[2], view[3]]);
  assertThrows(() => keptRows(view, { ...trend, filters: [{ col: "source", op: "LIKE" }] }, null));
});

Deno.test("equal figures give no mismatch; a wrong, extra or missing row is named", () => {
  const kept = keptRows(view, trend, days);
  const rows = [
    { date_day: day27, source: "batch", revenue: 0 },
    { date_day: day27, source: "all", revenue: 3 },
  ];
  assertEquals(figureMismatches(trend, rows, kept), []);
  assertEquals(figureMismatches(trend, [rows[0]!, { ...rows[1]!, revenue: 3.01 }], kept), [
    "row 2026-11-27 | all: revenue is 3.01, the view says 3.00",
  ]);
  assertEquals(figureMismatches(trend, [rows[0]!], kept), ["1 rows, the view keeps 2"]);
  assertEquals(
    figureMismatches(trend, [...rows, { date_day: day27, source: "stream", revenue: 3 }], kept),
    ["row 2026-11-27 | stream: matches 0 view rows, not 1", "3 rows, the view keeps 2"],
  );
});
