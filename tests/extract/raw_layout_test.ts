/**
 * The raw layout of docs/decisions/0027 with the real extractor (as the loader role) and the
 * project's Fake Store server: no day fails for a missing partition, the loader creates
 * partitions only through raw.ensure_manifest_partitions, and raw grows with change (payloads)
 * while the manifest grows by a full snapshot per day.
 */
import assert from "node:assert/strict";
import { runExtract } from "../../workers/extract/extract_run.ts";
import type { Interval } from "../../workers/extract/interval.ts";
import { adminPool, day, loaderPool, quietLogger, testClient, useServer } from "./helpers.ts";

const server = await useServer();
const loader = loaderPool();
const admin = adminPool();
// Teardown, not a test: the pools and the server live as long as this file's tests.
Deno.test.afterAll(async () => {
  await loader.end();
  await admin.end();
  await server.close();
});
const logger = quietLogger();

function extract(interval: Interval) {
  return runExtract(
    { pool: loader, http: testClient(server.url, { interval, logger }), logger },
    { interval, sourceBaseUrl: server.url },
  );
}

/** Row counts of the snapshot tables (payloads: all; manifest: all and for `interval`). */
async function counts(interval: Interval): Promise<Record<string, number>> {
  const { rows } = await admin.query<Record<string, string>>(
    `select
         (select count(*) from raw.fakestore_product_payloads) as product_payloads,
         (select count(*) from raw.fakestore_user_payloads) as user_payloads,
         (select count(*) from raw.fakestore_product_manifest) as product_manifest,
         (select count(*) from raw.fakestore_user_manifest) as user_manifest,
         (select count(*) from raw.fakestore_product_manifest where interval_start = $1)
             as products_of_day,
         (select count(*) from raw.fakestore_user_manifest where interval_start = $1)
             as users_of_day`,
    [interval.start.toISOString()],
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([key, value]) => [key, Number(value)]));
}

/** How many (record_id, payload) of `interval`'s manifest are not in `earlier`'s. */
async function changedSince(earlier: Interval, interval: Interval): Promise<number[]> {
  const changed: number[] = [];
  for (const entity of ["product", "user"]) {
    const { rows } = await admin.query<{ changed: string }>(
      `select count(*) as changed from raw.fakestore_${entity}_manifest as today
       where today.interval_start = $2 and not exists (
           select from raw.fakestore_${entity}_manifest as yesterday
           where yesterday.interval_start = $1 and yesterday.record_id = today.record_id
               and yesterday.payload_id = today.payload_id)`,
      [earlier.start.toISOString(), interval.start.toISOString()],
    );
    changed.push(Number(rows[0]!.changed));
  }
  return changed;
}

async function partitionsOf(manifest: string): Promise<string[]> {
  const { rows } = await admin.query<{ name: string }>(
    `select c.relname as name from pg_inherits as i
     inner join pg_class as c on c.oid = i.inhrelid
     where i.inhparent = $1::regclass order by 1`,
    [manifest],
  );
  return rows.map((row) => row.name);
}

Deno.test("no day fails for a partition: a day far in the past and one far ahead both land", async () => {
  for (const date of ["2019-01-15", "2031-07-01"]) {
    const interval = day(date);
    const outcome = await extract(interval);
    const landed = await counts(interval);
    assert.equal(outcome.counts.products?.landed, landed.products_of_day, `${date}: products`);
    assert.ok(landed.products_of_day! > 0 && landed.users_of_day! > 0, `${date}: landed`);
  }
  for (const entity of ["product", "user"]) {
    const partitions = await partitionsOf(`raw.fakestore_${entity}_manifest`);
    for (const month of ["2019_01", "2019_02", "2019_03", "2031_07", "2031_08", "2031_09"]) {
      assert.ok(
        partitions.includes(`fakestore_${entity}_manifest_p${month}`),
        `${entity} manifest partition ${month} in ${partitions.join(", ")}`,
      );
    }
  }
});

Deno.test("the loader creates partitions only through the function", async () => {
  await assert.rejects(
    loader.query("create table raw.loader_probe (id integer)"),
    /permission denied for schema raw/,
  );
  await assert.rejects(
    loader.query(
      `create table raw.fakestore_product_manifest_p2040_01 partition of
       raw.fakestore_product_manifest for values from ('2040-01-01') to ('2040-02-01')`,
    ),
    /permission denied for schema raw/,
  );
  const call = "select raw.ensure_manifest_partitions($1, $2) as created";
  const range = ["2040-01-10T00:00:00Z", "2040-01-11T00:00:00Z"];
  const { rows: first } = await loader.query<{ created: number }>(call, range);
  assert.equal(first[0]!.created, 6, "January to March 2040, for both manifests");
  const { rows: again } = await loader.query<{ created: number }>(call, range);
  assert.equal(again[0]!.created, 0, "a second call creates nothing");
  // Two callers at once (two extractors racing): both succeed, each month exists once.
  const racing = ["2041-05-10T00:00:00Z", "2041-05-11T00:00:00Z"];
  const raced = await Promise.all([loader.query(call, racing), loader.query(call, racing)]);
  assert.equal(raced.reduce((sum, result) => sum + result.rows[0]!.created, 0), 6);
  await assert.rejects(
    loader.query(call, ["2040-01-11T00:00:00Z", "2040-01-10T00:00:00Z"]),
    /Ensure manifest partitions: need from < to/,
  );
});

Deno.test("raw grows with change: payloads by the changed records, the manifest by a snapshot", async () => {
  const first = day("2027-03-10");
  const second = day("2027-03-11");
  await extract(first);
  const before = await counts(second);
  const { loadId } = await extract(second);
  const after = await counts(second);
  const changed = await changedSince(first, second);
  const { rows } = await admin.query<{ products: string; users: string }>(
    `select
         (select count(*) from raw.fakestore_product_payloads where first_load_id = $1) as products,
         (select count(*) from raw.fakestore_user_payloads where first_load_id = $1) as users`,
    [loadId],
  );
  const added = [Number(rows[0]!.products), Number(rows[0]!.users)];
  assert.ok(changed[0]! > 0, "the shop changed some products overnight");
  assert.ok(changed[0]! < after.products_of_day!, "but not every product");
  // The payloads grew by exactly what the run stored first, and that is at most what changed
  // since yesterday (a payload seen on another day earlier is not stored again).
  assert.equal(after.product_payloads! - before.product_payloads!, added[0]);
  assert.equal(after.user_payloads! - before.user_payloads!, added[1]);
  assert.ok(added[0]! > 0 && added[0]! <= changed[0]!, `products: ${added[0]} of ${changed[0]}`);
  assert.ok(added[1]! <= changed[1]!, `users: ${added[1]} of ${changed[1]}`);
  assert.equal(after.product_manifest! - before.product_manifest!, after.products_of_day);
  assert.equal(after.user_manifest! - before.user_manifest!, after.users_of_day);

  const { loadId: rerun } = await extract(second);
  assert.deepEqual(await counts(second), after, "re-running a day changes no count");
  // The re-run keeps the first run's envelope (lineage) beside its own, but the manifest names
  // only the re-run's response: joined as staging joins, still one row per product.
  const { rows: joined } = await admin.query<{ rows: string; loads: string[]; envelopes: string }>(
    `select count(*) as rows, array_agg(distinct r.load_id::text) as loads,
            (select count(*) from raw.fakestore_responses
             where entity = 'products' and interval_start = $1) as envelopes
     from raw.fakestore_product_manifest as m
     inner join raw.fakestore_responses as r using (response_id)
     where m.interval_start = $1`,
    [second.start.toISOString()],
  );
  assert.equal(Number(joined[0]!.rows), after.products_of_day);
  assert.deepEqual(joined[0]!.loads, [rerun]);
  assert.equal(Number(joined[0]!.envelopes), 2, "both runs' envelopes are kept");
});
