/**
 * The database as code: migrations build an empty database, change nothing on a second run,
 * and upgrade an older database in place without losing its data.
 */
import assert from "node:assert/strict";
import { connectAs, dropDatabase, freshDatabase, migrate } from "./support.ts";

const SCHEMAS = ["analysis", "audit", "intermediate", "marts", "raw", "staging"];

/** A fingerprint of every table, column and applied migration in a database. */
async function fingerprint(database: string): Promise<string> {
  const client = await connectAs("postgres", database);
  try {
    const { rows } = await client.query(`
      select string_agg(table_schema || '.' || table_name || '.' || column_name || ':' || data_type,
                        ',' order by table_schema, table_name, ordinal_position) as columns,
             (select string_agg(name, ',' order by id) from public.pgmigrations) as applied
      from information_schema.columns
      where table_schema not in ('pg_catalog', 'information_schema')`);
    return JSON.stringify(rows[0]);
  } finally {
    await client.end();
  }
}

async function migrationFiles(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir("db/migrations")) {
    if (entry.name.endsWith(".sql")) names.push(entry.name.replace(/\.sql$/, ""));
  }
  return names.sort();
}

Deno.test("migrations build an empty database with every schema and record each version", async () => {
  const db = "test_mig_empty";
  await freshDatabase(db);
  try {
    await migrate(db);
    const client = await connectAs("postgres", db);
    try {
      const schemas = await client.query(
        "select nspname from pg_namespace where nspname = any($1) order by 1",
        [SCHEMAS],
      );
      assert.deepEqual(schemas.rows.map((r) => r.nspname), SCHEMAS);
      const applied = await client.query("select name from public.pgmigrations order by id");
      assert.deepEqual(applied.rows.map((r) => r.name), await migrationFiles());
    } finally {
      await client.end();
    }
  } finally {
    await dropDatabase(db);
  }
});

Deno.test("a second migrate run changes nothing", async () => {
  const db = "test_mig_twice";
  await freshDatabase(db);
  try {
    await migrate(db);
    const first = await fingerprint(db);
    const output = await migrate(db);
    assert.match(output, /"applied":\[\]/, "the second run must apply no migration");
    assert.equal(await fingerprint(db), first);
  } finally {
    await dropDatabase(db);
  }
});

Deno.test("an older database is upgraded in place and keeps its data", async () => {
  const files = await migrationFiles();
  const db = "test_mig_upgrade";
  const reference = "test_mig_upgrade_reference";
  await freshDatabase(db);
  try {
    await migrate(db, "0001");
    const client = await connectAs("postgres", db);
    try {
      const before = await client.query("select name from public.pgmigrations");
      assert.deepEqual(before.rows.map((r) => r.name), ["0001_foundation"]);
      // data written by the old version must survive the upgrade
      await client.query("create table raw.upgrade_probe (id int primary key, note text)");
      await client.query("insert into raw.upgrade_probe values (1, 'kept')");
    } finally {
      await client.end();
    }
    await migrate(db);
    const after = await connectAs("postgres", db);
    try {
      const applied = await after.query("select name from public.pgmigrations order by id");
      assert.deepEqual(applied.rows.map((r) => r.name), files);
      const kept = await after.query("select note from raw.upgrade_probe where id = 1");
      assert.equal(kept.rows[0]?.note, "kept");
      await after.query("drop table raw.upgrade_probe");
    } finally {
      await after.end();
    }
    // Without the probe, the upgraded database is the one a fresh build gives.
    await freshDatabase(reference);
    await migrate(reference);
    assert.equal(await fingerprint(db), await fingerprint(reference));
  } finally {
    await dropDatabase(db);
    await dropDatabase(reference);
  }
});

Deno.test("role passwords follow the environment on every migrate (credential rotation)", async () => {
  const db = "test_mig_rotate";
  await freshDatabase(db);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "migrate"],
      env: { WAREHOUSE_DB: db, ANALYST_PASSWORD: "rotated-secret" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const pg = (await import("pg")).default;
    const rotated = new pg.Client({
      host: Deno.env.get("PGHOST"),
      port: Number(Deno.env.get("PGPORT")),
      database: db,
      user: "analyst",
      password: "rotated-secret",
    });
    await rotated.connect();
    try {
      const who = await rotated.query("select current_user");
      assert.equal(who.rows[0]?.current_user, "analyst");
    } finally {
      await rotated.end();
    }
  } finally {
    // restore the configured password for the rest of the run
    await migrate(db);
    await dropDatabase(db);
  }
});
