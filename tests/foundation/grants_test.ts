/**
 * The database's grants are the grant matrix of docs/operations.md, no more and no less: role
 * attributes, database, schema, table and sequence privileges (effective, PUBLIC included),
 * owners, and the default privileges of future tables. The matrix is parsed from the doc, so
 * the doc and the migrations cannot drift apart.
 */
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import type pg from "pg";
import { runner } from "node-pg-migrate";
import { type MatrixRow, parseGrantMatrix, type Role, ROLES, rowLabel } from "./grant_matrix.ts";
import { connectAs, dropDatabase, env, freshDatabase, migrate } from "./support.ts";

const TABLE_PRIVILEGES = [
  "SELECT",
  "INSERT",
  "UPDATE",
  "DELETE",
  "TRUNCATE",
  "REFERENCES",
  "TRIGGER",
];
const SEQUENCE_PRIVILEGES = ["USAGE", "SELECT", "UPDATE"];
const SCHEMA_PRIVILEGES = ["USAGE", "CREATE"];
const DATABASE_PRIVILEGES = ["CONNECT", "TEMPORARY", "CREATE"];
const FUNCTION_PRIVILEGES = ["EXECUTE"];
/** pg_default_acl's object types for the matrix's kinds. */
const DEFAULT_ACL_TYPES: Record<string, string> = { table: "r", sequence: "S" };

const matrix = parseGrantMatrix(await Deno.readTextFile("docs/operations.md"));

/** One fact of the database: `label`'s privileges for each role ("OWNER" for the owner). */
type Facts = Map<string, Set<string>>;

const key = (label: string, role: string) => `${label}: ${role}`;
const show = (set: Set<string> | undefined) => set?.size ? [...set].sort().join(", ") : "—";

/** Every difference between the matrix and the database, as readable lines (none: no drift). */
async function drift(client: pg.Client): Promise<string[]> {
  const expected: Facts = new Map();
  const actual: Facts = new Map();
  const problems: string[] = [];
  const roles = [...ROLES];

  const rowFor = (kind: string, schema: string | null, name: string | null) =>
    matrix.find((row) => row.kind === kind && row.schema === schema && row.name === name);
  const expect = (row: MatrixRow, label = rowLabel(row)) => {
    for (const role of ROLES) expected.set(key(label, role), row.privileges[role]);
  };

  const { rows: roleRows } = await client.query<{ role: Role; held: string[] }>(
    `select rolname as role,
            array_remove(array[
              case when rolcanlogin then 'LOGIN' end, case when rolsuper then 'SUPERUSER' end,
              case when rolcreatedb then 'CREATEDB' end, case when rolcreaterole then 'CREATEROLE' end,
              case when rolreplication then 'REPLICATION' end,
              case when rolbypassrls then 'BYPASSRLS' end], null)
            || array(select 'MEMBER OF ' || m.roleid::regrole::text from pg_auth_members m
                     where m.member = r.oid) as held
     from pg_roles r where rolname = any($1)`,
    [roles],
  );
  for (const { role, held } of roleRows) actual.set(key("role", role), new Set(held));
  const database = await client.query<{ role: Role; held: string[] }>(
    `select role, array(select p from unnest($2::text[]) p
                        where has_database_privilege(role, current_database(), p)) as held
     from unnest($1::text[]) role`,
    [roles, DATABASE_PRIVILEGES],
  );
  for (const { role, held } of database.rows) actual.set(key("database", role), new Set(held));
  for (const kind of ["role", "database"]) {
    const row = rowFor(kind, null, null);
    if (row === undefined) problems.push(`the matrix has no ${kind} row`);
    else expect(row);
  }

  const schemas = await client.query<{ name: string; role: Role; held: string[] }>(
    `select nspname as name, role,
            array(select p from unnest($2::text[]) p
                  where has_schema_privilege(role, n.oid, p)) as held
     from pg_namespace n cross join unnest($1::text[]) role
     where nspname !~ '^pg_' and nspname <> 'information_schema'`,
    [roles, SCHEMA_PRIVILEGES],
  );
  for (const { name, role, held } of schemas.rows) {
    const row = rowFor("schema", null, name);
    if (row === undefined) problems.push(`schema ${name} has no row in the grant matrix`);
    else expect(row);
    actual.set(key(`schema ${name}`, role), new Set(held));
  }

  // Relations and sequences: the object's own row, else its schema's wildcard row.
  const relations = await client.query<
    { kind: string; schema: string; name: string; owner: string; role: Role; held: string[] }
  >(
    `select case when c.relkind = 'S' then 'sequence' else 'table' end as kind,
            n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner) as owner, role,
            case when c.relkind = 'S'
                 then array(select p from unnest($3::text[]) p
                            where has_sequence_privilege(role, c.oid, p))
                 else array(select p from unnest($2::text[]) p
                            where has_table_privilege(role, c.oid, p)) end as held
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     cross join unnest($1::text[]) role
     where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
       and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`,
    [roles, TABLE_PRIVILEGES, SEQUENCE_PRIVILEGES],
  );
  for (const { kind, schema, name, owner, role, held } of relations.rows) {
    const label = `${kind} ${schema}.${name}`;
    const row = rowFor(kind, schema, name) ?? rowFor(kind, schema, "*");
    if (row === undefined) {
      problems.push(`${label} has no row (nor ${kind} ${schema}.*) in the grant matrix`);
      continue;
    }
    expect(row, label);
    actual.set(key(label, role), new Set(owner === role ? ["OWNER"] : held));
  }

  // Functions (raw.ensure_manifest_partitions): each needs its own row; PUBLIC's EXECUTE counts.
  const functions = await client.query<
    { schema: string; name: string; owner: string; role: Role; held: string[] }
  >(
    `select n.nspname as schema, p.proname as name, pg_get_userbyid(p.proowner) as owner, role,
            array(select f from unnest($2::text[]) f
                  where has_function_privilege(role, p.oid, f)) as held
     from pg_proc p
     join pg_namespace n on n.oid = p.pronamespace
     cross join unnest($1::text[]) role
     where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`,
    [roles, FUNCTION_PRIVILEGES],
  );
  for (const { schema, name, owner, role, held } of functions.rows) {
    const label = `function ${schema}.${name}`;
    const row = rowFor("function", schema, name);
    if (row === undefined) {
      problems.push(`${label} has no row in the grant matrix`);
      continue;
    }
    expect(row, label);
    actual.set(key(label, role), new Set(owner === role ? ["OWNER"] : held));
  }

  // Default privileges: each wildcard row's, for objects its OWNER (else the runner) creates.
  const runnerRole = env("POSTGRES_USER", "postgres");
  for (const row of matrix.filter((row) => row.name === "*")) {
    const creator = ROLES.find((role) => row.privileges[role].has("OWNER")) ?? runnerRole;
    for (const role of ROLES) {
      if (role === creator || row.privileges[role].size === 0) continue;
      const label = `default ${row.kind} ${row.schema}.* created by ${creator}`;
      expected.set(key(label, role), row.privileges[role]);
    }
  }
  const defaults = await client.query<
    { creator: string; schema: string | null; type: string; role: Role; held: string[] }
  >(
    `select pg_get_userbyid(d.defaclrole) as creator, n.nspname as schema,
            d.defaclobjtype as type, pg_get_userbyid(acl.grantee) as role,
            array_agg(acl.privilege_type::text) as held
     from pg_default_acl d
     cross join aclexplode(d.defaclacl) acl
     left join pg_namespace n on n.oid = d.defaclnamespace
     where pg_get_userbyid(acl.grantee) = any($1)
     group by 1, 2, 3, 4`,
    [roles],
  );
  for (const { creator, schema, type, role, held } of defaults.rows) {
    const kind = Object.keys(DEFAULT_ACL_TYPES).find((k) => DEFAULT_ACL_TYPES[k] === type) ??
      `objects of type ${type}`;
    const label = `default ${kind} ${schema ?? "(all schemas)"}.* created by ${creator}`;
    actual.set(key(label, role), new Set(held));
  }

  for (const fact of new Set([...expected.keys(), ...actual.keys()])) {
    const want = show(expected.get(fact));
    const have = show(actual.get(fact));
    if (want !== have) problems.push(`${fact} holds ${have}, the matrix says ${want}`);
  }
  return [...new Set(problems)].sort();
}

Deno.test("grant matrix: parsed from docs/operations.md with a row for every role column", () => {
  assert.ok(matrix.length >= 20, `only ${matrix.length} rows parsed`);
  const loaderOnManifest = matrix.find((row) =>
    rowLabel(row) === "table raw.fakestore_product_manifest"
  );
  assert.deepEqual([...loaderOnManifest?.privileges.loader ?? []], ["SELECT", "INSERT", "DELETE"]);
  const partitions = matrix.find((row) =>
    rowLabel(row) === "function raw.ensure_manifest_partitions"
  );
  assert.deepEqual([...partitions?.privileges.raw_owner ?? []], ["OWNER"]);
  assert.throws(
    () => parseGrantMatrix("### Grant matrix\n\n| object | loader |\n|---|---|\n"),
    /unexpected header object,loader/,
  );
});

Deno.test("grants: the database holds exactly the grant matrix", async () => {
  const client = await connectAs("postgres");
  try {
    assert.deepEqual(await drift(client), []);
  } finally {
    await client.end();
  }
});

Deno.test("grants: the least-privilege migration reverts to 0001's grants and re-applies", async () => {
  const db = "test_grants_down";
  await freshDatabase(db);
  try {
    await migrate(db);
    const later = [...Deno.readDirSync("db/migrations")]
      .filter((entry) => entry.name >= "0004_least_privilege.sql" && entry.name.endsWith(".sql"));
    const client = await connectAs("postgres", db);
    try {
      await runner({
        dbClient: client,
        dir: "db/migrations",
        direction: "down",
        count: later.length,
        migrationsTable: "pgmigrations",
        migrationsSchema: "public",
        singleTransaction: true,
        log: () => {},
      });
      const reverted = await drift(client);
      assert.ok(
        reverted.includes(
          "table raw.fakestore_products: loader holds DELETE, INSERT, SELECT, UPDATE, " +
            "the matrix says DELETE, INSERT, SELECT",
        ),
        reverted.join("\n"),
      );
      assert.ok(
        reverted.includes("database: analyst holds CONNECT, TEMPORARY, the matrix says CONNECT"),
        reverted.join("\n"),
      );
    } finally {
      await client.end();
    }
    await migrate(db);
    const again = await connectAs("postgres", db);
    try {
      assert.deepEqual(await drift(again), []);
    } finally {
      await again.end();
    }
  } finally {
    await dropDatabase(db);
  }
});
