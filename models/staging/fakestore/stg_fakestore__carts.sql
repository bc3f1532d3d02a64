with

source_carts as (
    select * from {{ source('fakestore', 'carts') }}
),

renamed as (
    select
        -- ids
        load_id,
        record_id as cart_id,
        cast(payload ->> 'userId' as bigint) as user_id,
        -- strings and JSON: the line items stay an array here (1:1 with raw);
        -- int_cart_lines_unnested turns them into rows
        payload_hash,
        endpoint,
        request_url,
        payload -> 'products' as line_items,
        -- numerics
        jsonb_array_length(payload -> 'products') as line_item_count,
        cast(payload ->> '__v' as integer) as document_version,
        http_status,
        -- timestamps: the cart's `date` is ISO-8601 UTC
        cast(payload ->> 'date' as timestamptz) as ordered_at,
        interval_start,
        interval_end,
        extracted_at
    from source_carts
)

select * from renamed
