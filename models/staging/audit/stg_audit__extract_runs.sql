with

source_extract_runs as (
    select * from {{ source('audit', 'extract_runs') }}
),

renamed as (
    select
        -- ids
        load_id,
        -- strings and JSON
        status,
        source_base_url,
        error as error_message,
        counts,
        schema_drift,
        -- numerics: the per-entity counts flattened
        cast(counts -> 'products' ->> 'fetched' as integer) as products_fetched,
        cast(counts -> 'products' ->> 'landed' as integer) as products_landed,
        cast(counts -> 'products' ->> 'rejected' as integer) as products_rejected,
        cast(counts -> 'users' ->> 'fetched' as integer) as users_fetched,
        cast(counts -> 'users' ->> 'landed' as integer) as users_landed,
        cast(counts -> 'users' ->> 'rejected' as integer) as users_rejected,
        cast(counts -> 'carts' ->> 'fetched' as integer) as carts_fetched,
        cast(counts -> 'carts' ->> 'landed' as integer) as carts_landed,
        cast(counts -> 'carts' ->> 'rejected' as integer) as carts_rejected,
        duration_ms,
        -- booleans
        status = 'succeeded' as is_complete_load,
        as_of_honoured as is_as_of_honoured,
        -- dates and timestamps
        as_of_date,
        interval_start,
        interval_end,
        started_at,
        finished_at
    from source_extract_runs
)

select * from renamed
