/**
 * Pure logic of the "figures equal the views" test: turn a chart's saved query context into the
 * raw query (no post-processing, a fixed date range), pick the view rows the same filters keep,
 * and list every figure that differs. Superset's rows and the view's rows come from the callers.
 */

/** A column of a query: a plain name or an adhoc SQL column (the time axis). */
export type QueryColumn = string | {
  label?: string;
  sqlExpression?: string;
  columnType?: string;
  timeGrain?: string;
};

/** A metric of a query: a saved metric name or an adhoc one. */
export type QueryMetric = string | {
  expressionType?: string;
  column?: { column_name: string } | null;
  aggregate?: string | null;
  label?: string;
};

/** A simple filter of a query. */
export type QueryFilter = { col: string | QueryColumn; op: string; val?: unknown };

/** One query of a saved query context (only the fields this test reads are typed). */
export type Query = {
  columns?: QueryColumn[];
  metrics?: QueryMetric[];
  filters?: QueryFilter[];
  extras?: { where?: string; having?: string };
  post_processing?: unknown[];
  row_limit?: number;
  [key: string]: unknown;
};

/** A saved query context (a chart's `query_context`, parsed). */
export type QueryContext = { queries: Query[]; [key: string]: unknown };

/** A view row as read with every column cast to text (null stays null). */
export type ViewRow = Record<string, string | null>;

/** A day range, start inclusive and end exclusive (ISO dates), as Superset's time range reads. */
export type DayRange = { from: string; to: string };

const AGGREGATES_OF_ONE_ROW = new Set(["SUM", "MAX", "MIN", "AVG"]);

/** The label Superset gives a column or metric in its result rows. */
export function labelOf(item: QueryColumn | QueryMetric): string {
  if (typeof item === "string") return item;
  if (item.label) return item.label;
  if ("sqlExpression" in item && item.sqlExpression) return item.sqlExpression;
  throw new Error(`Reading a query item: ${JSON.stringify(item)} has no label`);
}

/** The view column a query column reads (adhoc SQL columns must be a bare column name). */
export function viewColumnOf(column: QueryColumn): string {
  const name = typeof column === "string" ? column : column.sqlExpression ?? column.label ?? "";
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`Reading a chart column: ${JSON.stringify(column)} is not a view column`);
  }
  return name;
}

/** The view column a metric shows: an adhoc SUM/MAX/MIN/AVG of one column (of one view row). */
export function metricColumnOf(metric: QueryMetric): string {
  if (
    typeof metric === "string" || metric.expressionType !== "SIMPLE" || !metric.column ||
    !AGGREGATES_OF_ONE_ROW.has(String(metric.aggregate))
  ) {
    throw new Error(
      `Reading a chart metric: ${JSON.stringify(metric)} is not SUM/MAX/MIN/AVG of one column`,
    );
  }
  return metric.column.column_name;
}

/** Whether a column is the time axis (its values come back as epoch milliseconds). */
export function isTimeAxis(column: QueryColumn): boolean {
  return typeof column !== "string" && (column.columnType === "BASE_AXIS" && !!column.timeGrain);
}

/** The saved query without post-processing and with its time range set to `days`. */
export function rawQueryContext(saved: QueryContext, days: DayRange | null): QueryContext {
  return {
    ...saved,
    force: true,
    result_format: "json",
    result_type: "full",
    queries: saved.queries.map((query) => {
      const filters = (query.filters ?? []).filter((f) => f.op !== "TEMPORAL_RANGE");
      const axis = (query.columns ?? []).find(isTimeAxis);
      if (days && axis) {
        filters.push({
          col: viewColumnOf(axis),
          op: "TEMPORAL_RANGE",
          val: `${days.from} : ${days.to}`,
        });
      }
      return { ...query, filters, post_processing: [] };
    }),
  };
}

/** The view rows a query's simple filters keep (and the day range on its time axis). */
export function keptRows(rows: ViewRow[], query: Query, days: DayRange | null): ViewRow[] {
  if (query.extras?.where || query.extras?.having) {
    throw new Error(
      `Filtering view rows: free SQL filters are not supported (${JSON.stringify(query.extras)})`,
    );
  }
  const axis = (query.columns ?? []).find(isTimeAxis);
  return rows.filter((row) =>
    (query.filters ?? []).every((filter) => {
      const value = row[viewColumnOf(filter.col)] ?? null;
      const wanted = Array.isArray(filter.val) ? filter.val.map(String) : [String(filter.val)];
      switch (filter.op) {
        case "==":
        case "IN":
          return value !== null && wanted.includes(value);
        case "!=":
        case "NOT IN":
          return value !== null && !wanted.includes(value);
        case "<":
        case "<=":
        case ">":
        case ">=":
          return value !== null && compare(Number(value), filter.op, Number(filter.val));
        case "TEMPORAL_RANGE":
          return true; // the range the test sets is applied below, on the time axis
        default:
          throw new Error(`Filtering view rows: operator ${filter.op} is not supported`);
      }
    }) &&
    (!days || !axis || inRange(row[viewColumnOf(axis)] ?? null, days))
  );
}

function compare(value: number, op: string, bound: number): boolean {
  if (op === "<") return value < bound;
  if (op === "<=") return value <= bound;
  if (op === ">") return value > bound;
  return value >= bound;
}

function inRange(day: string | null, days: DayRange): boolean {
  return day !== null && day.slice(0, 10) >= days.from && day.slice(0, 10) < days.to;
}

/** The text a result value is matched on: time axis values as ISO dates. */
export function keyText(value: unknown, timeAxis: boolean): string {
  if (timeAxis && typeof value === "number") return new Date(value).toISOString().slice(0, 10);
  if (timeAxis && typeof value === "string") return value.slice(0, 10);
  return value === null || value === undefined ? "null" : String(value);
}

/**
 * Every difference between Superset's raw rows and the view rows the same query keeps: each
 * Superset row must match exactly one view row on the query's columns, each metric must equal
 * that row's column exactly, and no kept view row may be missing (up to the row limit).
 */
export function figureMismatches(
  query: Query,
  supersetRows: Record<string, unknown>[],
  view: ViewRow[],
): string[] {
  const columns = query.columns ?? [];
  const metrics = query.metrics ?? [];
  const keyOf = (get: (column: QueryColumn) => unknown): string =>
    columns.map((column) => keyText(get(column), isTimeAxis(column))).join(" | ");
  const byKey = new Map<string, ViewRow[]>();
  for (const row of view) {
    const key = keyOf((column) => row[viewColumnOf(column)] ?? null);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const problems: string[] = [];
  for (const row of supersetRows) {
    const key = keyOf((column) => row[labelOf(column)]);
    const matches = byKey.get(key) ?? [];
    if (matches.length !== 1) {
      problems.push(`row ${key}: matches ${matches.length} view rows, not 1`);
      continue;
    }
    for (const metric of metrics) {
      const shown = row[labelOf(metric)];
      const text = matches[0]![metricColumnOf(metric)] ?? null;
      const expected = text === null ? null : Number(text);
      if (shown !== expected) {
        problems.push(`row ${key}: ${labelOf(metric)} is ${shown}, the view says ${text}`);
      }
    }
  }
  const expectedRows = Math.min(view.length, query.row_limit ?? view.length);
  if (supersetRows.length !== expectedRows) {
    problems.push(`${supersetRows.length} rows, the view keeps ${expectedRows}`);
  }
  return problems;
}
