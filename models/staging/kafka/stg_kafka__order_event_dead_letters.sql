with

source_dead_letters as (
    select * from {{ source('kafka', 'order_events_dead_letters') }}
),

renamed as (
    select
        -- ids
        id as dead_letter_id,
        replayed_event_id,
        -- strings (the raw bytes stay in raw: raw_text is their readable form where one exists)
        topic,
        message_key,
        error_class,
        error_message,
        raw_text,
        -- numerics
        kafka_partition,
        kafka_offset,
        octet_length(raw_value) as raw_value_bytes,
        -- booleans
        fixed_value is not null as has_fixed_value,
        replayed_at is not null as is_replayed,
        -- timestamps
        kafka_timestamp,
        first_seen_at,
        replayed_at
    from source_dead_letters
)

select * from renamed
