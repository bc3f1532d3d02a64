with

source_duplicates as (
    select * from {{ source('kafka', 'order_events_duplicates') }}
),

renamed as (
    select
        -- ids
        id as duplicate_id,
        event_id,
        -- strings
        payload ->> 'event_type' as event_type,
        topic,
        message_key,
        dropped_by,
        -- numerics
        kafka_partition,
        kafka_offset,
        -- timestamps
        kafka_timestamp,
        dropped_at
    from source_duplicates
)

select * from renamed
