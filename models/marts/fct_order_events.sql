{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="event_id",
        on_schema_change="fail",
        tags=["stream"],
        pre_hook="{{ reset_on_backfill(ref('stg_audit__extract_runs'), [
            ref('int_products_versioned'),
            ref('int_users_versioned'),
        ]) }}",
        indexes=[
            {"columns": ["order_id"]},
            {"columns": ["product_key"]},
            {"columns": ["user_key"]},
            {"columns": ["date_key"]},
            {"columns": ["landed_at"]},
            {"columns": ["product_id", "occurred_at"]},
            {"columns": ["user_id", "occurred_at"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs'), [
    ref('int_products_versioned'),
    ref('int_users_versioned'),
]) %}
{#- The fact's watermark minus the look-back: a literal when executed (decision 0039). -#}
{%- set landed_from = processed_maximum('landed_at', bounds.reset, bounds.literal)
    ~ " - interval '" ~ var('order_events_lookback_minutes') ~ " minutes'" %}

-- Stream order events, one row per valid event (raw.order_events holds only events that passed
-- the v1 contract), with the product and user versions valid when the event occurred.
-- Incremental: each run re-reads the events landed since the fact's watermark (max landed_at)
-- minus a look-back longer than the consumer's longest transaction (landed_at is the landing
-- transaction's start, so a long one commits rows "in the past"), and merges them on event_id:
-- re-reading is harmless, missing is not. docs/decisions/0033.
-- Versions (docs/decisions/0037): a batch run also re-resolves the events already merged whose
-- product or user got a version first landed by the extract runs the histories read since this
-- model's watermark, from that version's lookup_from on (an event of a product unknown until
-- now takes its first version). A re-run or backfill of an interval the histories had read
-- empties the fact first (reset_on_backfill): it is rebuilt from all events. A stream run finds
-- no new version (only batch runs build the histories), so it only merges new events.
with

stg_extract_runs as (
    select
        load_id,
        is_complete_load,
        interval_start,
        interval_end,
        finished_at
    from {{ ref('stg_audit__extract_runs') }}
),

watermarks as (
    {{ extract_watermarks(bounds) }}
),

new_extract_runs as (
    {{ new_extract_runs('stg_extract_runs', bounds) }}
),

-- Imports read more than once are `not materialized`: inlined, the filters on the run's few
-- rows reach the tables' indexes instead of a copy of the whole history (decision 0039).
products_versioned as not materialized (
    select
        product_key,
        product_id,
        first_load_id,
        lookup_from,
        lookup_to
    from {{ ref('int_products_versioned') }}
),

users_versioned as not materialized (
    select
        user_key,
        user_id,
        first_load_id,
        lookup_from,
        lookup_to
    from {{ ref('int_users_versioned') }}
),

{% if is_incremental() %}
    -- Events already merged that a version first landed by the new runs now covers.
    re_resolved_events as (
        {{ covered_by_new_versions(
            this, 'event_id', 'occurred_at', 'products_versioned', 'product_id', 'new_extract_runs'
        ) }}
        union
        {{ covered_by_new_versions(
            this, 'event_id', 'occurred_at', 'users_versioned', 'user_id', 'new_extract_runs'
        ) }}
    ),
{% endif %}

order_events as (
    select * from {{ ref('stg_kafka__order_events') }}
    {% if is_incremental() %}
        where landed_at >= {{ landed_from }}
        union all
        select * from {{ ref('stg_kafka__order_events') }}
        where
            landed_at < {{ landed_from }}
            and event_id in (select re_resolved_events.event_id from re_resolved_events)
    {% endif %}
),

resolved as (
    select
        order_events.event_id,
        order_events.order_id,
        -- only item_added carries a product; for the other types the key is not applicable
        case
            when order_events.product_id is not null
                then coalesce(products_versioned.product_key, 'unknown')
        end as product_key,
        coalesce(users_versioned.user_key, 'unknown') as user_key,
        {{ date_key(utc_date('order_events.occurred_at')) }} as date_key,
        order_events.product_id,
        order_events.user_id,
        order_events.event_type,
        order_events.channel,
        order_events.payment_method,
        order_events.cancel_reason,
        order_events.topic,
        order_events.kafka_partition,
        order_events.kafka_offset,
        order_events.quantity,
        order_events.unit_price,
        order_events.quantity * order_events.unit_price as line_amount,
        order_events.total_amount,
        {{ utc_date('order_events.occurred_at') }} as occurred_date,
        order_events.occurred_at,
        order_events.kafka_timestamp,
        order_events.landed_at,
        watermarks.current_watermark as extracted_through
    from order_events
    cross join watermarks
    left join products_versioned
        on {{ version_valid_at('products_versioned', 'order_events', 'product_id', 'occurred_at') }}
    left join users_versioned
        on {{ version_valid_at('users_versioned', 'order_events', 'user_id', 'occurred_at') }}
)

select * from resolved
