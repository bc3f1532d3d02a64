/**
 * Privileges hold: the loader writes raw/audit only, the transformer builds downstream schemas,
 * the analyst only reads marts/analysis. Each client asserts who it really is (current_user).
 */
import assert from "node:assert/strict";
import { connectAs } from "./support.ts";

async function setUp(): Promise<void> {
  const admin = await connectAs("postgres");
  try {
    await admin.query(`
      -- raw tables are created as raw_owner, whose default privileges grant the loader (0007)
      set role raw_owner;
      create table if not exists raw.privilege_probe (id int primary key, note text);
      reset role;
      create table if not exists audit.privilege_probe (id int primary key);
      drop table if exists marts.privilege_probe;`);
  } finally {
    await admin.end();
  }
  // the transformer owns marts objects, as dbt does
  const transformer = await connectAs("transformer");
  try {
    await transformer.query(`
      create table marts.privilege_probe as select 1 as id, 'mart' as note;
      create table if not exists staging.privilege_probe (id int)`);
  } finally {
    await transformer.end();
  }
}

const rejects = (promise: Promise<unknown>) =>
  assert.rejects(promise, /permission denied|must be owner/);

Deno.test("privileges: each role can do its job and nothing more", async (t) => {
  await setUp();

  await t.step("loader writes raw and audit through npm:pg", async () => {
    const loader = await connectAs("loader");
    try {
      const who = await loader.query("select current_user");
      assert.equal(who.rows[0].current_user, "loader");
      await loader.query("delete from raw.privilege_probe");
      const inserted = await loader.query(
        "insert into raw.privilege_probe values ($1, $2), ($3, $4) returning id",
        [1, "a", 2, "b"],
      );
      assert.equal(inserted.rowCount, 2);
      await loader.query("insert into audit.privilege_probe values (1) on conflict do nothing");
      const back = await loader.query("select count(*)::int as n from raw.privilege_probe");
      assert.equal(back.rows[0].n, 2);
    } finally {
      await loader.end();
    }
  });

  await t.step("loader cannot write or read outside raw/audit, nor create tables", async () => {
    const loader = await connectAs("loader");
    try {
      await rejects(loader.query("insert into staging.privilege_probe values (1)"));
      await rejects(loader.query("select * from marts.privilege_probe"));
      await rejects(loader.query("create table raw.loader_made (id int)"));
      await rejects(loader.query("create table public.loader_made (id int)"));
    } finally {
      await loader.end();
    }
  });

  await t.step("transformer reads raw but cannot write it", async () => {
    const transformer = await connectAs("transformer");
    try {
      const who = await transformer.query("select current_user");
      assert.equal(who.rows[0].current_user, "transformer");
      const read = await transformer.query("select count(*)::int as n from raw.privilege_probe");
      assert.equal(read.rows[0]?.n, 2, "the transformer sees the loader's rows");
      await rejects(transformer.query("insert into raw.privilege_probe values (9, 'x')"));
      await rejects(transformer.query("delete from raw.privilege_probe"));
    } finally {
      await transformer.end();
    }
  });

  await t.step("analyst reads marts only and writes nothing", async () => {
    const analyst = await connectAs("analyst");
    try {
      const who = await analyst.query("select current_user");
      assert.equal(who.rows[0].current_user, "analyst");
      const mart = await analyst.query("select note from marts.privilege_probe");
      assert.equal(mart.rows[0].note, "mart");
      await rejects(analyst.query("insert into marts.privilege_probe values (2, 'x')"));
      await rejects(analyst.query("select * from raw.privilege_probe"));
      await rejects(analyst.query("select * from staging.privilege_probe"));
      await rejects(analyst.query("create table marts.analyst_made (id int)"));
    } finally {
      await analyst.end();
    }
  });
});
