/**
 * stack/postgres/metadata_owner.sql (run for Airflow and Superset, natively and by compose):
 * a metadata database the superuser made, with objects of every kind Airflow creates, is handed
 * to Airflow's own role, which then logs in with its password; a second run with a rotated
 * password is idempotent and applies the new one.
 */
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { connectAs, dropDatabase, env, freshDatabase } from "./support.ts";

const DB = `${env("PGDATABASE")}_metadata_owner`;
const ROLE = `${env("PGDATABASE")}_airflow_probe`;
const OWNER_SQL = Deno.readTextFileSync(
  new URL("../../stack/postgres/metadata_owner.sql", import.meta.url),
);

async function handOver(password: string): Promise<void> {
  const admin = await connectAs("postgres", DB);
  try {
    await admin.query(
      "select set_config('webshop.owner_role', $1, false), " +
        "set_config('webshop.owner_password', $2, false)",
      [ROLE, password],
    );
    await admin.query(OWNER_SQL);
  } finally {
    await admin.end();
  }
}

async function loginAsRole(password: string): Promise<string> {
  const client = new pg.Client({
    host: env("PGHOST", "127.0.0.1"),
    port: Number(env("PGPORT", "5432")),
    database: DB,
    user: ROLE,
    password,
  });
  await client.connect();
  try {
    // The owner can change what it owns: Airflow's `db migrate` alters its tables.
    await client.query("alter table task_instance add column probe int");
    return (await client.query("select current_user")).rows[0].current_user;
  } finally {
    await client.end();
  }
}

Deno.test("an existing metadata database is handed to Airflow's role, idempotently", async () => {
  await freshDatabase(DB);
  const admin = await connectAs("postgres", DB);
  try {
    await admin.query(`drop role if exists "${ROLE}"`);
    await admin.query(`
      create type dag_state as enum ('queued', 'running');
      create table task_instance (id serial primary key, state dag_state);
      create sequence loose_seq;
      create view running as select id from task_instance;
    `);
  } finally {
    await admin.end();
  }
  try {
    await handOver("first-password");
    await handOver("second-password");
    assert.equal(await loginAsRole("second-password"), ROLE);
    await assert.rejects(loginAsRole("first-password"), /password authentication failed/);
    const check = await connectAs("postgres", DB);
    try {
      const owners = await check.query(
        `select 'database' as kind, pg_get_userbyid(datdba) as owner from pg_database
           where datname = current_database()
         union all
         select c.relkind::text || ' ' || c.relname, pg_get_userbyid(c.relowner) from pg_class c
           where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'S', 'v')
         union all
         select 'type ' || typname, pg_get_userbyid(typowner) from pg_type
           where typnamespace = 'public'::regnamespace and typtype = 'e'
         order by 1`,
      );
      const notHanded = owners.rows.filter((row) => row.owner !== ROLE);
      assert.equal(owners.rows.length, 6, JSON.stringify(owners.rows));
      assert.deepEqual(notHanded, []);
      const role = await check.query(
        "select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = $1",
        [ROLE],
      );
      assert.deepEqual(role.rows, [{ rolsuper: false, rolcreatedb: false, rolcreaterole: false }]);
    } finally {
      await check.end();
    }
  } finally {
    await dropDatabase(DB);
    const admin = await connectAs("postgres", "postgres");
    try {
      await admin.query(`drop role if exists "${ROLE}"`);
    } finally {
      await admin.end();
    }
  }
});
