with

source_extract_rejects as (
    select * from {{ source('audit', 'extract_rejects') }}
),

renamed as (
    select
        -- ids
        id as extract_reject_id,
        load_id,
        -- strings and JSON
        entity,
        record_key,
        reason,
        payload,
        payload_text,
        -- timestamps
        rejected_at
    from source_extract_rejects
)

select * from renamed
