with

source_manifest as (
    select * from {{ source('fakestore', 'products') }}
),

source_payloads as (
    select * from {{ source('fakestore', 'product_payloads') }}
),

-- One row per product per extracted interval, as landed: the manifest row with its payload
-- (stored once per (record_id, payload_hash), docs/decisions/0027).
source_products as (
    select
        source_manifest.load_id,
        source_manifest.record_id,
        source_payloads.payload,
        source_manifest.payload_hash,
        source_manifest.endpoint,
        source_manifest.request_url,
        source_manifest.http_status,
        source_manifest.interval_start,
        source_manifest.interval_end,
        source_manifest.extracted_at
    from source_manifest
    inner join source_payloads
        on
            source_manifest.record_id = source_payloads.record_id
            and source_manifest.payload_hash = source_payloads.payload_hash
),

renamed as (
    select
        -- ids
        load_id,
        record_id as product_id,
        -- strings: exactly as sent (five titles end in a space; keep them)
        payload ->> 'title' as title,
        payload ->> 'description' as description,
        payload ->> 'category' as category,
        payload ->> 'image' as image_url,
        payload_hash,
        endpoint,
        request_url,
        -- numerics: JSON numbers arrive as integers or decimals; numeric keeps them exact
        cast(payload ->> 'price' as numeric) as price,
        cast(payload -> 'rating' ->> 'rate' as numeric) as rating_rate,
        cast(payload -> 'rating' ->> 'count' as integer) as rating_count,
        http_status,
        -- timestamps
        interval_start,
        interval_end,
        extracted_at
    from source_products
)

select * from renamed
