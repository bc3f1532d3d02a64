{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="event_id",
        on_schema_change="fail",
        tags=["stream"],
        indexes=[
            {"columns": ["order_id"]},
            {"columns": ["product_key"]},
            {"columns": ["user_key"]},
            {"columns": ["date_key"]},
            {"columns": ["landed_at"]},
        ],
    )
}}

-- Stream order events, one row per valid event (raw.order_events holds only events that passed
-- the v1 contract), with the product and user versions valid when the event occurred.
-- Incremental: each run re-reads the events landed since the fact's watermark (max landed_at)
-- minus a look-back longer than the consumer's longest transaction (landed_at is the landing
-- transaction's start, so a long one commits rows "in the past"), and merges them on event_id:
-- re-reading is harmless, missing is not. docs/decisions/0033.
with

order_events as (
    select * from {{ ref('stg_kafka__order_events') }}
    {% if is_incremental() %}
        where landed_at >= (
            select
                coalesce(max(already_merged.landed_at), cast('-infinity' as timestamptz))
                - interval '{{ var("order_events_lookback_minutes") }} minutes'
            from {{ this }} as already_merged
        )
    {% endif %}
),

products_versioned as (
    select
        product_key,
        product_id,
        lookup_from,
        lookup_to
    from {{ ref('int_products_versioned') }}
),

users_versioned as (
    select
        user_key,
        user_id,
        lookup_from,
        lookup_to
    from {{ ref('int_users_versioned') }}
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
        order_events.landed_at
    from order_events
    left join products_versioned
        on {{ version_valid_at('products_versioned', 'order_events', 'product_id', 'occurred_at') }}
    left join users_versioned
        on {{ version_valid_at('users_versioned', 'order_events', 'user_id', 'occurred_at') }}
)

select * from resolved
