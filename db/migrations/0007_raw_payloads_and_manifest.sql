-- Up Migration
-- Raw grows with change, not with days (issue 10, docs/decisions/0027). Products and users were
-- stored as a full copy per record per day (raw.fakestore_products / raw.fakestore_users). Now:
--   raw.fakestore_<entity>_payloads  one row per distinct (record_id, payload_hash): the payload
--                                    stored once, whatever the number of days it was seen
--   raw.fakestore_<entity>_manifest  one narrow row per record per interval (interval_start,
--                                    record_id, payload_id, response_id), partitioned by month
--                                    of interval_start
--   raw.fakestore_responses          the landing envelope (load id, endpoint, URL, status,
--                                    interval, extracted-at) once per load and entity
-- Staging joins them back to the old row shape. Carts (dated, not snapshots) do not change.
--
-- Ownership: every raw table belongs to the NOLOGIN role raw_owner; nobody logs in as it. raw's
-- default privileges move from the runner to raw_owner, so a raw table is created as raw_owner
-- (`set role raw_owner`, as below). The loader keeps the grants landing needs (docs/operations.md
-- "Grant matrix"), creates temporary stages (TEMPORARY on the database, 0004) and creates
-- partitions only through raw.ensure_manifest_partitions (SECURITY DEFINER, owned by raw_owner).
-- Nothing relied on the runner owning a raw table: the workers only select, insert, update and
-- delete (the consumer's truncate is on its own temporary stage), dbt and the tests only read
-- (the stream benchmark's truncate runs as the superuser).
--
-- Partitions: one per calendar month (UTC) of interval_start, named <manifest>_pYYYY_MM,
-- created by the extractor ahead of time (the run's months plus two). No DEFAULT partition: a
-- row outside every range must fail loudly rather than land where it would later block
-- creating that month's partition.
--
-- Conversion (in place, data kept): a payload row per distinct (record_id, payload_hash) of
-- the old table, taken from its earliest interval; an envelope row per load; a manifest row per
-- old row. Locks, all held
-- to commit: SHARE on the old tables from the start (old-layout writes wait, reads go on),
-- SHARE ROW EXCLUSIVE on audit.extract_runs (the new foreign keys: run rows wait), then at the
-- end ACCESS EXCLUSIVE on every raw table (ownership, the drop: everything touching raw waits
-- for the last moments of the transaction).
-- Measured cost and rollback: docs/operations.md ("Running for a year").

do $$
begin
    if not exists (select from pg_roles where rolname = 'raw_owner') then
        create role raw_owner nologin;
    end if;
end
$$;

-- The old tables stay readable but take no writes while they are converted (SHARE), so no row
-- landed meanwhile can be lost by the drop at the end.
lock table raw.fakestore_products, raw.fakestore_users in share mode;

-- raw_owner creates raw's tables (this migration's, the partitions inside the function, a later
-- migration's: `set role raw_owner` around its create) and the envelope's foreign key to the runs.
grant usage, create on schema raw to raw_owner;
grant usage on schema audit to raw_owner;
grant references on audit.extract_runs to raw_owner;

-- raw's default privileges move from the runner to raw_owner, unchanged: a new raw table (or
-- partition) is readable by dbt and landed by replace-by-interval.
alter default privileges in schema raw revoke all on tables from loader, transformer;
alter default privileges in schema raw revoke all on sequences from loader;
alter default privileges for role raw_owner in schema raw
grant select, insert, delete on tables to loader;
alter default privileges for role raw_owner in schema raw grant select on tables to transformer;
alter default privileges for role raw_owner in schema raw grant usage on sequences to loader;

set role raw_owner;

create table raw.fakestore_product_payloads (
    -- the manifest names a payload by this 8-byte id, not by (record_id, 65-byte hex hash)
    payload_id bigint generated always as identity primary key,
    record_id bigint not null,
    payload_hash text not null check (payload_hash ~ '^[0-9a-f]{64}$'),
    payload jsonb not null,
    -- the run that first landed this payload (for converted data: its earliest interval's);
    -- lineage only, no foreign key: forgetting a run must not rewrite payloads other days share
    first_load_id uuid not null,
    first_extracted_at timestamptz not null,
    unique (record_id, payload_hash)
);

create table raw.fakestore_user_payloads (
    payload_id bigint generated always as identity primary key,
    record_id bigint not null,
    payload_hash text not null check (payload_hash ~ '^[0-9a-f]{64}$'),
    payload jsonb not null check (not payload ? 'password'),
    first_load_id uuid not null,
    first_extracted_at timestamptz not null,
    unique (record_id, payload_hash)
);

-- The landing envelope, once per response (one GET per entity per run) instead of on every
-- manifest row. A re-run of an interval adds its own row; the manifest rows it replaces named
-- the earlier response, so staging (which joins the response a manifest row names) never sees
-- two.
create table raw.fakestore_responses (
    -- the manifest names its response by this 4-byte id, not by the 16-byte load id
    response_id integer generated always as identity primary key,
    load_id uuid not null references audit.extract_runs (load_id),
    entity text not null check (entity in ('products', 'users')),
    endpoint text not null,
    request_url text not null,
    http_status integer not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    extracted_at timestamptz not null,
    unique (load_id, entity),
    check (interval_end > interval_start)
);

-- Narrow rows (60 bytes with the tuple header and line pointer): which payload each record had
-- in the interval and which response said so; everything else is in the payload or the
-- envelope. No index beside the primary key: nothing looks rows up by response, and nothing
-- deletes a response (the loader cannot).
create table raw.fakestore_product_manifest (
    interval_start timestamptz not null,
    record_id bigint not null,
    -- a manifest row can never lose its payload, nor its envelope
    payload_id bigint not null references raw.fakestore_product_payloads (payload_id),
    response_id integer not null references raw.fakestore_responses (response_id),
    primary key (interval_start, record_id)
) partition by range (interval_start);

create table raw.fakestore_user_manifest (
    interval_start timestamptz not null,
    record_id bigint not null,
    payload_id bigint not null references raw.fakestore_user_payloads (payload_id),
    response_id integer not null references raw.fakestore_responses (response_id),
    primary key (interval_start, record_id)
) partition by range (interval_start);

-- Payloads and envelopes are only ever added (a re-run adds what changed and its own envelope;
-- nothing is deleted by landing).
revoke delete on raw.fakestore_product_payloads, raw.fakestore_user_payloads from loader;
revoke delete on raw.fakestore_responses from loader;

comment on table raw.fakestore_product_payloads is
'GET /products: each distinct product payload once per (record_id, payload_hash). payload is the record as served (jsonb: key order normalised by PostgreSQL).';
comment on table raw.fakestore_user_payloads is
'GET /users: each distinct user payload once per (record_id, payload_hash). The password is removed by the extractor before anything else sees the record.';
comment on table raw.fakestore_product_manifest is
'One row per product per extracted interval (a full snapshot as of the interval''s last day): which payload it had and which response landed it (raw.fakestore_responses). Partitioned by month of interval_start.';
comment on table raw.fakestore_user_manifest is
'One row per user per extracted interval (a full snapshot): which payload it had and which response landed it (raw.fakestore_responses). Partitioned by month of interval_start.';
comment on table raw.fakestore_responses is
'The landing envelope of each products or users response: one row per load and entity (endpoint, URL, HTTP status, interval, extracted-at).';
comment on column raw.fakestore_product_payloads.payload_hash is
'sha256 hex of the canonical JSON (keys sorted, no whitespace) of payload, computed by the extractor';

-- Creates the missing monthly partitions of both manifests for [from_at, to_at) and the two
-- months after it, and returns how many it created. Idempotent and safe when two extractors
-- race: an existing partition is skipped without a lock, a concurrent creation of the same one
-- is caught. CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the manifest (PostgreSQL
-- 15) and SHARE ROW EXCLUSIVE on the tables its foreign keys reference (the payloads and
-- raw.fakestore_responses, for the new partition's triggers): call it in a short transaction of its
-- own, never inside the landing transaction, so it waits for (and then briefly blocks) landings
-- and reads only in the rare run that does create a month.
create function raw.ensure_manifest_partitions(from_at timestamptz, to_at timestamptz)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    first_month date := date_trunc('month', from_at at time zone 'UTC');
    last_month date := date_trunc('month', (to_at at time zone 'UTC') - interval '1 microsecond');
    month_start date;
    manifest text;
    partition_name text;
    created integer := 0;
begin
    if from_at is null or to_at is null or to_at <= from_at then
        raise exception 'Ensure manifest partitions: need from < to, got [%, %)', from_at, to_at;
    end if;
    -- a sanity bound: one call covers at most 100 years of months
    if last_month > first_month + interval '100 years' then
        raise exception 'Ensure manifest partitions: [%, %) spans more than 100 years', from_at, to_at;
    end if;
    for month_start in
        select cast(month_at as date)
        from generate_series(
            cast(first_month as timestamp),
            cast(last_month as timestamp) + interval '2 months',
            interval '1 month'
        ) as month_at
    loop
        foreach manifest in array array['fakestore_product_manifest', 'fakestore_user_manifest'] loop
            partition_name := manifest || to_char(month_start, '"_p"YYYY_MM');
            continue when to_regclass(format('raw.%I', partition_name)) is not null;
            begin
                execute format(
                    'create table raw.%I partition of raw.%I for values from (%L) to (%L)',
                    partition_name,
                    manifest,
                    to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00',
                    to_char(month_start + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00'
                );
                created := created + 1;
            exception when duplicate_table or unique_violation then
                -- another extractor created it between our check and our create: fine
                null;
            end;
        end loop;
    end loop;
    return created;
end
$$;
revoke all on function raw.ensure_manifest_partitions(timestamptz, timestamptz) from public;
grant execute on function raw.ensure_manifest_partitions(timestamptz, timestamptz) to loader;

reset role;

-- Convert the old layout: partitions for the data's months, then payloads, then the manifest.
select raw.ensure_manifest_partitions(min(interval_start), max(interval_end))
from (
    select
        interval_start,
        interval_end
    from raw.fakestore_products
    union all
    select
        interval_start,
        interval_end
    from raw.fakestore_users
) as old_rows
having count(*) > 0;

insert into raw.fakestore_product_payloads
(record_id, payload_hash, payload, first_load_id, first_extracted_at)
select distinct on (record_id, payload_hash)
    record_id,
    payload_hash,
    payload,
    load_id,
    extracted_at
from raw.fakestore_products
order by record_id asc, payload_hash asc, interval_start asc;

-- One envelope per load: a load whose rows disagree on it would give two rows for one
-- (load_id, entity) and stop the migration on its unique key rather than lose a value.
insert into raw.fakestore_responses
(load_id, entity, endpoint, request_url, http_status, interval_start, interval_end, extracted_at)
select
    load_id,
    'products' as entity,
    endpoint,
    request_url,
    http_status,
    interval_start,
    interval_end,
    extracted_at
from raw.fakestore_products
group by load_id, endpoint, request_url, http_status, interval_start, interval_end, extracted_at;

insert into raw.fakestore_product_manifest
(interval_start, record_id, payload_id, response_id)
select
    old_rows.interval_start,
    old_rows.record_id,
    payloads.payload_id,
    responses.response_id
from raw.fakestore_products as old_rows
inner join raw.fakestore_product_payloads as payloads
    on old_rows.record_id = payloads.record_id and old_rows.payload_hash = payloads.payload_hash
inner join raw.fakestore_responses as responses
    on old_rows.load_id = responses.load_id and responses.entity = 'products';

insert into raw.fakestore_user_payloads
(record_id, payload_hash, payload, first_load_id, first_extracted_at)
select distinct on (record_id, payload_hash)
    record_id,
    payload_hash,
    payload,
    load_id,
    extracted_at
from raw.fakestore_users
order by record_id asc, payload_hash asc, interval_start asc;

-- One envelope per load: a load whose rows disagree on it would give two rows for one
-- (load_id, entity) and stop the migration on its unique key rather than lose a value.
insert into raw.fakestore_responses
(load_id, entity, endpoint, request_url, http_status, interval_start, interval_end, extracted_at)
select
    load_id,
    'users' as entity,
    endpoint,
    request_url,
    http_status,
    interval_start,
    interval_end,
    extracted_at
from raw.fakestore_users
group by load_id, endpoint, request_url, http_status, interval_start, interval_end, extracted_at;

insert into raw.fakestore_user_manifest
(interval_start, record_id, payload_id, response_id)
select
    old_rows.interval_start,
    old_rows.record_id,
    payloads.payload_id,
    responses.response_id
from raw.fakestore_users as old_rows
inner join raw.fakestore_user_payloads as payloads
    on old_rows.record_id = payloads.record_id and old_rows.payload_hash = payloads.payload_hash
inner join raw.fakestore_responses as responses
    on old_rows.load_id = responses.load_id and responses.entity = 'users';

-- Every raw table belongs to raw_owner (owned sequences follow their table). Done last: ALTER
-- OWNER locks each table ACCESS EXCLUSIVE until commit, so the consumer's landing into
-- raw.order_events waits only for the end of this migration, not for the conversion.
do $$
declare
    relation regclass;
begin
    for relation in
        select c.oid::regclass
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = 'raw' and c.relkind in ('r', 'p') and not c.relispartition
    loop
        execute format('alter table %s owner to raw_owner', relation);
    end loop;
end
$$;

-- cascade: dbt's staging views over the old tables (stg_fakestore__products / __users) go with
-- them; nothing else depends on them (intermediate and marts are tables), and the next dbt run
-- (batch DAG, make transform) recreates both views over the new layout.
drop table raw.fakestore_products cascade;
drop table raw.fakestore_users cascade;

-- Down Migration
-- Rebuilds the one-row-per-record-per-day tables of 0002 from manifest joined to payloads
-- (data kept), drops the new tables and gives raw back to the runner. raw_owner stays (roles
-- are cluster-wide, like 0001's) without any privilege here.
-- The runner creates raw tables again (0004's default privileges), first of all these two.
alter default privileges for role raw_owner in schema raw revoke all on tables from loader, transformer;
alter default privileges for role raw_owner in schema raw revoke all on sequences from loader;
alter default privileges in schema raw grant select, insert, delete on tables to loader;
alter default privileges in schema raw grant select on tables to transformer;
alter default privileges in schema raw grant usage on sequences to loader;

create table raw.fakestore_products (
    load_id uuid not null references audit.extract_runs (load_id),
    record_id bigint not null,
    payload jsonb not null,
    payload_hash text not null check (payload_hash ~ '^[0-9a-f]{64}$'),
    endpoint text not null,
    request_url text not null,
    http_status integer not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    extracted_at timestamptz not null,
    primary key (interval_start, record_id),
    check (interval_end > interval_start)
);
create index fakestore_products_load_id_idx on raw.fakestore_products (load_id);

create table raw.fakestore_users (
    load_id uuid not null references audit.extract_runs (load_id),
    record_id bigint not null,
    payload jsonb not null check (not payload ? 'password'),
    payload_hash text not null check (payload_hash ~ '^[0-9a-f]{64}$'),
    endpoint text not null,
    request_url text not null,
    http_status integer not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    extracted_at timestamptz not null,
    primary key (interval_start, record_id),
    check (interval_end > interval_start)
);
create index fakestore_users_load_id_idx on raw.fakestore_users (load_id);

comment on table raw.fakestore_products is
'GET /products, one row per product per extracted interval (full snapshot as of the interval''s last day). payload is the record as served (jsonb: key order normalised by PostgreSQL).';
comment on table raw.fakestore_users is
'GET /users, one row per user per extracted interval (full snapshot). The password is removed by the extractor before anything else sees the record.';
comment on column raw.fakestore_products.payload_hash is
'sha256 hex of the canonical JSON (keys sorted, no whitespace) of payload, computed by the extractor';

insert into raw.fakestore_products
(
    load_id, record_id, payload, payload_hash, endpoint, request_url, http_status,
    interval_start, interval_end, extracted_at
)
select
    responses.load_id,
    manifest.record_id,
    payloads.payload,
    payloads.payload_hash,
    responses.endpoint,
    responses.request_url,
    responses.http_status,
    manifest.interval_start,
    responses.interval_end,
    responses.extracted_at
from raw.fakestore_product_manifest as manifest
inner join raw.fakestore_product_payloads as payloads
    on manifest.payload_id = payloads.payload_id
inner join raw.fakestore_responses as responses
    on manifest.response_id = responses.response_id;

insert into raw.fakestore_users
(
    load_id, record_id, payload, payload_hash, endpoint, request_url, http_status,
    interval_start, interval_end, extracted_at
)
select
    responses.load_id,
    manifest.record_id,
    payloads.payload,
    payloads.payload_hash,
    responses.endpoint,
    responses.request_url,
    responses.http_status,
    manifest.interval_start,
    responses.interval_end,
    responses.extracted_at
from raw.fakestore_user_manifest as manifest
inner join raw.fakestore_user_payloads as payloads
    on manifest.payload_id = payloads.payload_id
inner join raw.fakestore_responses as responses
    on manifest.response_id = responses.response_id;

drop function raw.ensure_manifest_partitions(timestamptz, timestamptz);
-- cascade: as in the up migration, dbt's staging views go too; a dbt run of the matching code
-- recreates them.
drop table raw.fakestore_product_manifest cascade;
drop table raw.fakestore_user_manifest cascade;
drop table raw.fakestore_product_payloads cascade;
drop table raw.fakestore_user_payloads cascade;
drop table raw.fakestore_responses cascade;

do $$
declare
    relation regclass;
begin
    for relation in
        select c.oid::regclass
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname = 'raw' and c.relkind in ('r', 'p') and not c.relispartition
    loop
        execute format('alter table %s owner to current_user', relation);
    end loop;
end
$$;

revoke all on audit.extract_runs from raw_owner;
revoke all on schema raw, audit from raw_owner;
