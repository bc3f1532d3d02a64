with

source_consumer_offsets as (
    select * from {{ source('kafka', 'consumer_offsets') }}
),

renamed as (
    select
        -- ids
        consumer_group,
        topic,
        -- numerics
        kafka_partition,
        next_offset,
        -- timestamps
        updated_at
    from source_consumer_offsets
)

select * from renamed
