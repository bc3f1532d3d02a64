/**
 * The Superset REST API as the demo tests use it: one JWT login as the admin of the instance
 * (SUPERSET_PORT, SUPERSET_ADMIN_USER, SUPERSET_ADMIN_PASSWORD), then plain GET/POST calls.
 */

/** A setting of the instance the test runs in, or the default given. */
export function setting(key: string, fallback?: string): string {
  const value = Deno.env.get(key) ?? fallback;
  if (value === undefined) throw new Error(`Reading setting ${key}: not in the environment`);
  return value;
}

/** The Superset web address of this instance (loopback only). */
export function supersetUrl(): string {
  return `http://127.0.0.1:${setting("SUPERSET_PORT", "8088")}`;
}

/** The local admin login (native local mode: admin/admin unless the settings say otherwise). */
export function adminLogin(): { username: string; password: string } {
  return {
    username: setting("SUPERSET_ADMIN_USER", "admin"),
    password: setting("SUPERSET_ADMIN_PASSWORD", "admin"),
  };
}

/** A chart as the dashboard's chart list names it. */
export type DashboardChart = { id: number; slice_name: string };

/** A dataset's table and its calculated columns (a name and the SQL Superset selects for it). */
export type DatasetTable = {
  schema: string;
  table_name: string;
  calculated: { name: string; expression: string }[];
};

/** One query's result of the chart-data API. */
export type ChartResult = {
  rowcount: number;
  colnames: string[];
  data: Record<string, unknown>[];
  error?: string | null;
  status?: string;
};

/** A logged-in API client; every call reuses the one access token. */
export class Superset {
  private constructor(readonly base: string, private readonly token: string) {}

  /** Logs in through POST /api/v1/security/login (database provider). */
  static async login(base = supersetUrl()): Promise<Superset> {
    const response = await fetch(`${base}/api/v1/security/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...adminLogin(), provider: "db", refresh: false }),
    });
    const body = await response.text();
    if (!response.ok) {
      throw new Error(`Logging into Superset at ${base} failed: ${response.status} ${body}`);
    }
    return new Superset(base, JSON.parse(body).access_token);
  }

  /** The JSON body of an API call; throws naming the path on any non-2xx answer. */
  async call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const response = await fetch(`${this.base}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${init.method ?? "GET"} ${path} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  }

  /** The charts placed on the dashboard with this slug (or id). */
  async dashboardCharts(slug: string): Promise<DashboardChart[]> {
    const body = await this.call<{ result: DashboardChart[] }>(
      `/api/v1/dashboard/${slug}/charts`,
    );
    return body.result;
  }

  /** A chart's saved query context (null when it has none) and its dataset id. */
  async savedQuery(id: number): Promise<{ queryContext: string | null; datasetId: number }> {
    const body = await this.call<{
      result: { query_context: string | null; params: string | null };
    }>(`/api/v1/chart/${id}`);
    const params = JSON.parse(body.result.params ?? "{}");
    const datasetId = Number(String(params.datasource ?? "").split("__")[0]);
    return { queryContext: body.result.query_context, datasetId };
  }

  /** The table a dataset reads (schema and name) and its calculated columns' SQL. */
  async datasetTable(id: number): Promise<DatasetTable> {
    const body = await this.call<{
      result: {
        schema: string;
        table_name: string;
        columns: { column_name: string; expression?: string | null }[];
      };
    }>(`/api/v1/dataset/${id}`);
    const { schema, table_name, columns } = body.result;
    const calculated = columns.flatMap((c) =>
      c.expression ? [{ name: c.column_name, expression: c.expression }] : []
    );
    return { schema, table_name, calculated };
  }

  /** GET /api/v1/chart/<id>/data/: the chart's saved query context, run. */
  async chartData(id: number): Promise<ChartResult[]> {
    return (await this.call<{ result: ChartResult[] }>(`/api/v1/chart/${id}/data/`)).result;
  }

  /** POST /api/v1/chart/data with a query context of the test's own. */
  async queryData(queryContext: unknown): Promise<ChartResult[]> {
    return (await this.call<{ result: ChartResult[] }>("/api/v1/chart/data", {
      method: "POST",
      body: queryContext,
    })).result;
  }
}
