-- Up Migration
-- Least privilege (issue 11): every role holds exactly what the grant matrix in
-- docs/operations.md ("Security" > "Grant matrix") lists, and tests/foundation/grants_test.ts
-- compares the database with that table. 0001 gave the loader select, insert, update and
-- delete on every raw and audit table and select on their sequences, and left PUBLIC with
-- PostgreSQL's defaults (connect and temporary on the database, usage on schema public).
-- The loader's grants follow the statements the workers run (workers/extract/raw_store.ts,
-- workers/consumer/landing.ts and status.ts, workers/dlq_replay/replay.ts); see the matrix.

-- The database: only the three roles (and the superuser) connect. Temporary tables for the
-- loader (the consumer's stage pg_temp.order_events_stage) and the transformer (dbt's
-- incremental models build in a temporary relation), not for the analyst, who only reads.
do $$
begin
    execute format('revoke all on database %I from public', current_database());
    execute format('revoke temporary on database %I from analyst', current_database());
end
$$;

-- No role of ours uses public (only the runner's public.pgmigrations lives there).
revoke all on schema public from public;

-- loader, existing tables: start from nothing, then what each table's writer needs.
revoke all on all tables in schema raw, audit from loader;
revoke all on all sequences in schema raw, audit from loader;
-- The extractor replaces an interval's snapshot rows: delete ... where interval_start (the
-- where clause needs select), then COPY (insert).
grant select, insert, delete on raw.fakestore_products, raw.fakestore_users, raw.fakestore_carts
to loader;
-- The consumer COPYs and inserts; `returning kafka_offset` and `make status` need select.
grant select, insert on raw.order_events, raw.order_events_duplicates to loader;
-- Updated in place: each partition's offset (select ... for update, upsert), a dead letter's
-- replayed_at (dlq_replay), a run's status and counts (the extractor).
grant select, insert, update on raw.consumer_offsets, raw.order_events_dead_letters,
audit.extract_runs to loader;
-- Rejects are only ever appended.
grant insert on audit.extract_rejects to loader;
-- nextval() of the bigserial ids; nobody reads or sets a sequence.
grant usage on all sequences in schema raw, audit to loader;

-- loader, future tables created by migrations (the runner's role): a new raw table is, like
-- every batch entity, a snapshot landed by replace-by-interval; a new audit table is appended
-- to. A migration that needs more (or less) grants it on the table itself and adds its row to
-- the matrix.
alter default privileges in schema raw, audit revoke all on tables from loader;
alter default privileges in schema raw grant select, insert, delete on tables to loader;
alter default privileges in schema audit grant insert on tables to loader;
alter default privileges in schema raw, audit revoke select on sequences from loader;

-- Down Migration
alter default privileges in schema raw, audit grant usage, select on sequences to loader;
alter default privileges in schema raw, audit grant select, insert, update, delete on tables to loader;
grant usage, select on all sequences in schema raw, audit to loader;
grant select, insert, update, delete on all tables in schema raw, audit to loader;
grant usage on schema public to public;
do $$
begin
    execute format('grant connect, temporary on database %I to public, analyst', current_database());
end
$$;
