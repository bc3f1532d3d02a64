/**
 * Migration 0007 on a database holding the old raw layout with data: the rows staging reads
 * (one per record per interval, payload and envelope) are the same, by count and checksum,
 * before the conversion, after it (manifest ⨝ payloads ⨝ envelope) and after its down migration.
 */
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import type pg from "pg";
import { connectAs, dropDatabase, env, freshDatabase, migrate } from "./support.ts";

const COLUMNS = "load_id, record_id, payload, payload_hash, endpoint, request_url, " +
  "http_status, interval_start, interval_end, extracted_at";

/** The old layout's rows of an entity, or the new layout's joined back to that shape. */
const OLD = (entity: string) => `raw.fakestore_${entity}s`;
const NEW = (entity: string) =>
  `(select r.load_id, m.record_id, p.payload, p.payload_hash, r.endpoint, r.request_url,
           r.http_status, m.interval_start, r.interval_end, r.extracted_at
    from raw.fakestore_${entity}_manifest as m
    inner join raw.fakestore_${entity}_payloads as p using (payload_id)
    inner join raw.fakestore_responses as r using (response_id))`;

/** Count and md5 of every column of every row, in key order, per entity. */
async function checksums(
  client: pg.Client,
  relation: (entity: string) => string,
): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entity of ["product", "user"]) {
    const { rows } = await client.query<{ sum: string }>(
      `select count(*) || ':' || md5(string_agg(row(${COLUMNS})::text, '|'
                                                order by interval_start, record_id)) as sum
       from ${relation(entity)} as landed`,
    );
    result[entity] = rows[0]!.sum;
  }
  return result;
}

/**
 * Old-layout rows: four days across a month boundary; products 1-5 with prices that change on
 * some days, product 4 missing on the third day; users 1-3 (no passwords), user 2 changing.
 */
const SEED = `
insert into audit.extract_runs
    (load_id, interval_start, interval_end, as_of_date, source_base_url, status, started_at,
     finished_at)
select md5('run' || d)::uuid, day, day + interval '1 day', cast(day as date), 'http://seed',
       'succeeded', day + interval '1 day 1 hour', day + interval '1 day 2 hours'
from generate_series(1, 4) as d,
     lateral (select timestamptz '2026-01-29 00:00+00' + d * interval '1 day' as day) as days;

insert into raw.fakestore_products
select md5('run' || d)::uuid, id, payload,
       encode(sha256(convert_to(payload::text, 'UTF8')), 'hex'),
       '/products', 'http://seed/products', 200, day, day + interval '1 day',
       day + interval '1 day 1 hour'
from generate_series(1, 4) as d,
     generate_series(1, 5) as id,
     lateral (select timestamptz '2026-01-29 00:00+00' + d * interval '1 day' as day) as days,
     lateral (select jsonb_build_object('id', id, 'title', 'Product ' || id || ' ',
                                        'price', 10 * id + case when id % 2 = 0 then d else 0 end,
                                        'category', 'seed') as payload) as p
where not (id = 4 and d = 3);

insert into raw.fakestore_users
select md5('run' || d)::uuid, id, payload,
       encode(sha256(convert_to(payload::text, 'UTF8')), 'hex'),
       '/users', 'http://seed/users', 200, day, day + interval '1 day',
       day + interval '1 day 1 hour'
from generate_series(1, 4) as d,
     generate_series(1, 3) as id,
     lateral (select timestamptz '2026-01-29 00:00+00' + d * interval '1 day' as day) as days,
     lateral (select jsonb_build_object('id', id, 'username', 'user' || id,
                                        'phone', case when id = 2 then d::text else '1' end,
                                        'address', jsonb_build_object('city', 'kilcoole'))
                  as payload) as u;
`;

Deno.test("migration 0007 converts the old raw layout in place and back, data kept", async () => {
  const db = "test_mig_raw_layout";
  await freshDatabase(db);
  try {
    await migrate(db, "0006");
    let client = await connectAs("postgres", db);
    let before: Record<string, string>;
    try {
      await client.query(SEED);
      before = await checksums(client, OLD);
      // dbt's staging view over the old table: the conversion must not be blocked by it
      await client.query(
        "create view staging.stg_probe as select record_id from raw.fakestore_products",
      );
    } finally {
      await client.end();
    }
    assert.match(before.product!, /^19:/, "4 days × 5 products, one missing");
    assert.match(before.user!, /^12:/);

    await migrate(db);
    client = await connectAs("postgres", db);
    try {
      assert.deepEqual(await checksums(client, NEW), before);
      const { rows } = await client.query<Record<string, string>>(
        `select
             (select count(*) from raw.fakestore_product_payloads) as product_payloads,
             (select count(*) from raw.fakestore_user_payloads) as user_payloads,
             (select string_agg(c.relname, ',' order by c.relname) from pg_inherits as i
              inner join pg_class as c on c.oid = i.inhrelid
              where i.inhparent = 'raw.fakestore_product_manifest'::regclass) as partitions,
             (select string_agg(distinct pg_get_userbyid(relowner), ',') from pg_class
              where relnamespace = 'raw'::regnamespace and relkind in ('r', 'p')) as owners,
             (select to_regclass('raw.fakestore_products')::text) as old_table,
             (select to_regclass('staging.stg_probe')::text) as old_view,
             (select cast(first_load_id = md5('run1')::uuid as text)
              from raw.fakestore_product_payloads where record_id = 1) as first_load`,
      );
      // products: 1, 3, 5 never change (3); 2 and 4 change daily (4 + 3): 10 payloads
      assert.deepEqual(rows[0], {
        product_payloads: "10",
        user_payloads: "6",
        partitions: [
          "fakestore_product_manifest_p2026_01",
          "fakestore_product_manifest_p2026_02",
          "fakestore_product_manifest_p2026_03",
          "fakestore_product_manifest_p2026_04",
        ].join(","),
        owners: "raw_owner",
        old_table: null,
        old_view: null,
        first_load: "true",
      });
      await client.query(
        "create view staging.stg_probe as select record_id from raw.fakestore_product_manifest",
      );
    } finally {
      await client.end();
    }

    await migrate(db, "0006", true);
    client = await connectAs("postgres", db);
    try {
      assert.deepEqual(await checksums(client, OLD), before);
      const { rows } = await client.query(
        `select to_regclass('raw.fakestore_product_manifest') as manifest,
                pg_get_userbyid(relowner) as owner,
                (select array_agg(name order by name) from public.pgmigrations) as applied
         from pg_class where oid = 'raw.fakestore_products'::regclass`,
      );
      assert.equal(rows[0].manifest, null);
      assert.equal(rows[0].owner, env("POSTGRES_USER", "postgres"));
      assert.equal(rows[0].applied.at(-1), "0006_extract_rejects_any_input");
    } finally {
      await client.end();
    }
  } finally {
    await dropDatabase(db);
  }
});
