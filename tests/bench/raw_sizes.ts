/**
 * Rows and on-disk size of every table in schema `raw`, discovered from the catalog (the raw
 * layout changes with migrations: tables get renamed, split or partitioned). A partitioned or
 * inheritance parent is one entry, its partitions' rows and bytes (indexes and TOAST included)
 * summed into it; partitions are not listed on their own.
 */
// @ts-types="@types/pg"
import pg from "pg";

/** One raw table (a partitioned one with its partitions summed). */
export interface RawTable {
  name: string;
  rows: number;
  bytes: number;
  partitions: number;
}

// Roots are raw tables that inherit from nothing (declarative partitions inherit from their
// parent in pg_inherits too); the recursive part walks partitions and sub-partitions.
const TABLES_SQL = `
with recursive tree as (
    select tables.oid as root, tables.oid as relid
    from pg_class as tables
    inner join pg_namespace as namespaces on tables.relnamespace = namespaces.oid
    where namespaces.nspname = 'raw'
      and tables.relkind in ('r', 'p')
      and not exists (select from pg_inherits where pg_inherits.inhrelid = tables.oid)
    union all
    select tree.root, pg_inherits.inhrelid
    from tree
    inner join pg_inherits on pg_inherits.inhparent = tree.relid
)
select
    tree.root::regclass::text as name,
    sum(pg_total_relation_size(tree.relid))::bigint as bytes,
    (count(*) - 1)::int as partitions
from tree
group by tree.root
order by name`;

/** Every raw table with its exact row count (a count(*) each) and total bytes. */
export async function rawTables(client: pg.Client): Promise<RawTable[]> {
  const { rows } = await client.query<{ name: string; bytes: string; partitions: number }>(
    TABLES_SQL,
  );
  const tables: RawTable[] = [];
  for (const row of rows) {
    // The name comes from regclass output, already quoted where needed.
    const counted = await client.query<{ n: string }>(`select count(*) as n from ${row.name}`);
    tables.push({
      name: row.name,
      rows: Number(counted.rows[0]?.n ?? 0),
      bytes: Number(row.bytes),
      partitions: row.partitions,
    });
  }
  return tables;
}

/** Size of the connected database, in bytes. */
export async function databaseBytes(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>(
    "select pg_database_size(current_database()) as bytes",
  );
  return Number(rows[0]?.bytes ?? 0);
}
