-- Up Migration
-- Streaming landing tables (issue 5). The consumer (workers/consumer, role loader) writes a
-- batch's valid events, dead letters, dropped duplicates and each partition's next offset in
-- ONE transaction, so raw.consumer_offsets, not Kafka's committed offset, is the truth about
-- what has landed (docs/decisions/0040). 0001's default privileges give loader read/write and
-- transformer read on every table and sequence created here.

-- One row per valid, distinct event: the verbatim payload and its Kafka envelope.
create table raw.order_events (
    event_id uuid primary key,
    payload jsonb not null,
    topic text not null,
    kafka_partition integer not null,
    kafka_offset bigint not null,
    message_key text,
    kafka_timestamp timestamptz,
    -- transaction start of the landing batch: dbt's watermark looks back past the longest one
    landed_at timestamptz not null default now(),
    constraint order_events_position_key unique (topic, kafka_partition, kafka_offset)
);
-- landed_at grows with the physical order of rows: a BRIN index serves dbt's incremental
-- range scans for almost no write cost (a btree would tax every landed row).
create index order_events_landed_at_brin on raw.order_events using brin (landed_at);

comment on table raw.order_events is
    'Valid order events from Kafka, one row per distinct event_id (docs/events.md)';

-- Messages that failed the contract, with their raw bytes, landed in the same transaction as
-- the batch they came in. workers/dlq_replay moves those that now pass into raw.order_events.
create table raw.order_events_dead_letters (
    id bigserial primary key,
    topic text not null,
    kafka_partition integer not null,
    kafka_offset bigint not null,
    message_key text,
    raw_value bytea,
    -- the value as text where it is UTF-8 without NUL and within the size cap, else null
    raw_text text,
    error_class text not null,
    error_message text not null,
    kafka_timestamp timestamptz,
    first_seen_at timestamptz not null default now(),
    -- an operator's corrected value: dlq_replay validates it in place of raw_value
    fixed_value bytea,
    replayed_at timestamptz,
    replayed_event_id uuid,
    constraint order_events_dead_letters_position_key unique (topic, kafka_partition, kafka_offset),
    constraint order_events_dead_letters_error_class_check
        check (error_class in ('parse', 'schema', 'oversize')),
    constraint order_events_dead_letters_replayed_check
        check ((replayed_at is null) = (replayed_event_id is null))
);
create index order_events_dead_letters_pending_idx
    on raw.order_events_dead_letters (error_class, first_seen_at)
    where replayed_at is null;

comment on table raw.order_events_dead_letters is
    'Kafka messages refused by the consumer (parse, schema, oversize); see docs/events.md';

-- Messages whose event_id had already landed: dropped from raw.order_events, kept as evidence.
create table raw.order_events_duplicates (
    id bigserial primary key,
    event_id uuid not null,
    payload jsonb not null,
    topic text not null,
    kafka_partition integer not null,
    kafka_offset bigint not null,
    message_key text,
    kafka_timestamp timestamptz,
    -- consumer: dropped on landing; dlq_replay: a replayed dead letter whose event had landed
    dropped_by text not null default 'consumer',
    dropped_at timestamptz not null default now(),
    constraint order_events_duplicates_position_key unique (topic, kafka_partition, kafka_offset),
    constraint order_events_duplicates_dropped_by_check
        check (dropped_by in ('consumer', 'dlq_replay'))
);
create index order_events_duplicates_event_id_idx on raw.order_events_duplicates (event_id);

comment on table raw.order_events_duplicates is
    'Kafka messages dropped because their event_id had already landed in raw.order_events';

-- Per consumer group and partition: the next offset to land. Written in the batch's transaction.
create table raw.consumer_offsets (
    consumer_group text not null,
    topic text not null,
    kafka_partition integer not null,
    next_offset bigint not null,
    updated_at timestamptz not null default now(),
    primary key (consumer_group, topic, kafka_partition),
    constraint consumer_offsets_next_offset_check check (next_offset >= 0)
);

comment on table raw.consumer_offsets is
    'Next Kafka offset to land per group and partition; the source of truth for exactly-once';

-- Down Migration
drop table if exists raw.consumer_offsets;
drop table if exists raw.order_events_duplicates;
drop table if exists raw.order_events_dead_letters;
drop table if exists raw.order_events;
