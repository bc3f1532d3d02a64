with

source_order_events as (
    select * from {{ source('kafka', 'order_events') }}
),

renamed as (
    select
        -- ids
        event_id,
        cast(payload ->> 'order_id' as uuid) as order_id,
        cast(payload ->> 'user_id' as bigint) as user_id,
        cast(payload ->> 'product_id' as bigint) as product_id,
        -- strings
        payload ->> 'event_type' as event_type,
        payload ->> 'channel' as channel,
        payload ->> 'payment_method' as payment_method,
        payload ->> 'reason' as cancel_reason,
        message_key,
        topic,
        -- numerics
        cast(payload ->> 'schema_version' as integer) as schema_version,
        cast(payload ->> 'quantity' as integer) as quantity,
        cast(payload ->> 'unit_price' as numeric) as unit_price,
        cast(payload ->> 'total_amount' as numeric) as total_amount,
        kafka_partition,
        kafka_offset,
        -- timestamps: occurred_at is an ISO-8601 UTC string in the event
        cast(payload ->> 'occurred_at' as timestamptz) as occurred_at,
        kafka_timestamp,
        landed_at
    from source_order_events
)

select * from renamed
