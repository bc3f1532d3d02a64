with

-- One row per product per extracted interval, as landed (manifest joined to payload, envelope).
source_products as (
    {{ fakestore_snapshot('products', 'product_payloads') }}
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
