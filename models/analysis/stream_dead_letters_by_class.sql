{#- The stream run recreates the staging view this reads, and dbt replaces a view by dropping the
    old one with cascade: tagged `stream`, this view is rebuilt by the same run right after it. -#}
{{ config(tags=["stream"]) }}

-- Which messages does the consumer refuse, and are they dealt with? One row per error class:
-- every class the consumer gives (parse, schema, oversize; zeros when it never refused one)
-- and any other class found in the dead letters. A dead letter is pending until a replay moves
-- it into the events; replayable = pending with a corrected value stored by an operator.
-- Reads staging: no mart holds the dead letters, and this aggregate is all `analyst` sees.
with

stg_dead_letters as (
    select
        error_class,
        has_fixed_value,
        is_replayed,
        first_seen_at,
        replayed_at
    from {{ ref('stg_kafka__order_event_dead_letters') }}
),

-- The consumer's classes (workers/shared/events.ts ERROR_CLASSES).
known_classes as (
    select error_class
    from (values ('parse'), ('schema'), ('oversize')) as error_classes (error_class)
),

error_classes as (
    select error_class from known_classes
    union
    select error_class from stg_dead_letters
),

by_class as (
    select
        error_class,
        count(*) as dead_letter_count,
        count(*) filter (where not is_replayed) as pending_count,
        count(*) filter (where not is_replayed and has_fixed_value) as replayable_count,
        count(*) filter (where is_replayed) as replayed_count,
        min(first_seen_at) as first_seen_at,
        max(first_seen_at) as last_seen_at,
        max(replayed_at) as last_replayed_at
    from stg_dead_letters
    group by error_class
),

summarised as (
    select
        error_classes.error_class,
        coalesce(by_class.dead_letter_count, 0) as dead_letter_count,
        coalesce(by_class.pending_count, 0) as pending_count,
        coalesce(by_class.replayable_count, 0) as replayable_count,
        coalesce(by_class.replayed_count, 0) as replayed_count,
        by_class.first_seen_at,
        by_class.last_seen_at,
        by_class.last_replayed_at
    from error_classes
    left join by_class
        on error_classes.error_class = by_class.error_class
)

select * from summarised
