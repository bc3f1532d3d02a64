/** The analysis views as the `analyst` role reads them (the role Superset connects as). */
// @ts-types="@types/pg"
import pg from "pg";
import { setting } from "./superset.ts";
import type { ViewRow } from "./figures.ts";

/**
 * Every row of analysis.<view>, each value as PostgreSQL's text (numerics keep their scale),
 * with the dataset's calculated columns (labels Superset builds from the view's columns).
 */
export async function readView(
  view: string,
  calculated: { name: string; expression: string }[] = [],
): Promise<ViewRow[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(view)) throw new Error(`Reading view ${view}: not a plain name`);
  const client = new pg.Client({
    host: "127.0.0.1",
    port: Number(setting("PGPORT")),
    database: setting("WAREHOUSE_DB"),
    user: "analyst",
    password: setting("ANALYST_PASSWORD"),
    types: { getTypeParser: () => (text: string) => text },
  });
  await client.connect();
  try {
    const extra = calculated.map((c) => `, (${c.expression}) as "${c.name}"`).join("");
    return (await client.query<ViewRow>(`select *${extra} from analysis.${view}`)).rows;
  } finally {
    await client.end();
  }
}
