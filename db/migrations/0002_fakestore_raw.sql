-- Up Migration
-- Batch extract (issue 3): the Fake Store API landed verbatim, one row per record per extracted
-- interval, plus the audit trail of every run. Written by the extractor (workers/extract) as the
-- `loader` role; read by dbt as `transformer`. Both grants come from the default privileges set
-- in 0001 (raw/audit tables and sequences created by this migration's owner).
--
-- Interval: half-open [interval_start, interval_end) in UTC. Products and users are full
-- snapshots as of the interval's last day; carts are those dated inside the interval.
-- A run replaces every row with its interval_start (delete + insert in one transaction), so a
-- re-run leaves the table as a single run would (docs/decisions/0021).
-- payload is jsonb: PostgreSQL normalises key order and whitespace, so the server's key order
-- (e.g. a user's `address` first) is not kept; payload_hash is the sha256 of the canonical
-- (sorted-key, compact) JSON computed by the extractor, stable across that normalisation
-- (docs/decisions/0022). The user's `password` never reaches these tables (0023).

create table audit.extract_runs (
    load_id uuid primary key,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    -- the day sent as X-Fakestore-As-Of (the interval's last day); the live API ignores it
    as_of_date date not null,
    -- whether the server echoed the as-of header back (ours does, the live API does not)
    as_of_honoured boolean,
    source_base_url text not null,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    started_at timestamptz not null,
    finished_at timestamptz,
    duration_ms integer,
    -- {"products": {"fetched": n, "landed": n, "rejected": n}, "users": {...}, "carts": {...}}
    counts jsonb not null default '{}',
    -- fields seen that the schemas do not know, per entity: {"products": {"stock": 20}}
    schema_drift jsonb not null default '{}',
    error text,
    check (interval_end > interval_start),
    check ((status = 'running') = (finished_at is null))
);
create index extract_runs_interval_idx on audit.extract_runs (interval_start, interval_end);

create table audit.extract_rejects (
    id bigserial primary key,
    load_id uuid not null references audit.extract_runs (load_id),
    entity text not null check (entity in ('products', 'users', 'carts')),
    -- the record's id when it has one, else its position in the response ("#3")
    record_key text not null,
    -- the record as received, password removed
    payload jsonb,
    reason text not null,
    rejected_at timestamptz not null default now()
);
create index extract_rejects_load_id_idx on audit.extract_rejects (load_id);

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

create table raw.fakestore_carts (
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
create index fakestore_carts_load_id_idx on raw.fakestore_carts (load_id);

comment on table raw.fakestore_products is
    'GET /products, one row per product per extracted interval (full snapshot as of the interval''s last day). payload is the record as served (jsonb: key order normalised by PostgreSQL).';
comment on table raw.fakestore_users is
    'GET /users, one row per user per extracted interval (full snapshot). The password is removed by the extractor before anything else sees the record.';
comment on table raw.fakestore_carts is
    'GET /carts?startdate&enddate, one row per cart dated inside [interval_start, interval_end).';
comment on column raw.fakestore_products.payload_hash is
    'sha256 hex of the canonical JSON (keys sorted, no whitespace) of payload, computed by the extractor';
comment on table audit.extract_runs is
    'One row per extractor run: interval, counts fetched/landed/rejected per entity, drift, status.';
comment on table audit.extract_rejects is
    'Records a run refused (schema or duplicate-id failures), without passwords. A run with rejects lands nothing.';

-- Down Migration
drop table if exists raw.fakestore_carts;
drop table if exists raw.fakestore_users;
drop table if exists raw.fakestore_products;
drop table if exists audit.extract_rejects;
drop table if exists audit.extract_runs;
