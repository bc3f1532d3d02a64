{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="product_key",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(ref('stg_audit__extract_runs')) }}",
        indexes=[
            {"columns": ["product_key"], "unique": true},
            {"columns": ["product_id", "lookup_from"]},
            {"columns": ["first_load_id"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs')) %}

-- SCD type 2 history of products, one row per product version, derived incrementally from the
-- raw snapshot history by the macro scd2_history, which says how (docs/decisions/0031).
with

-- The snapshot history to derive versions from: hashes only (narrow).
product_snapshots as (
    select
        product_id,
        load_id,
        payload_hash,
        interval_start,
        extracted_at
    from {{ ref('stg_fakestore__products') }}
),

-- Attributes, looked up for each version's first interval only (see `described`).
stg_products as (
    select
        product_id,
        title,
        description,
        category,
        image_url,
        price,
        rating_rate,
        rating_count,
        interval_start
    from {{ ref('stg_fakestore__products') }}
),

stg_extract_runs as (
    select
        load_id,
        is_complete_load,
        interval_start,
        interval_end,
        finished_at
    from {{ ref('stg_audit__extract_runs') }}
),

-- Bookkeeping for the reset rule and the models downstream (macro extract_watermarks).
watermarks as (
    {{ extract_watermarks(bounds) }}
),

versions as (
    {{ scd2_history('product_snapshots', 'product_id', 'stg_extract_runs', bounds) }}
),

-- A version's attributes are those of its first observation (same hash, same payload).
described as (
    select
        {{ surrogate_key(['versions.product_id', 'extract(epoch from versions.valid_from)']) }}
            as product_key,
        versions.product_id,
        versions.first_load_id,
        first_observation.title,
        first_observation.description,
        first_observation.category,
        first_observation.image_url,
        versions.payload_hash,
        first_observation.price,
        first_observation.rating_rate,
        first_observation.rating_count,
        versions.version_number,
        versions.is_current,
        versions.valid_from,
        versions.valid_to,
        versions.lookup_from,
        versions.lookup_to,
        versions.last_seen_at,
        versions.last_extracted_at,
        watermarks.current_watermark as extracted_through
    from versions
    cross join watermarks
    -- One primary-key probe of raw per version ((interval_start, record_id)); `offset 0` keeps
    -- the planner from turning it into a scan of every snapshot, with its JSON, per run.
    cross join lateral (
        select
            stg_products.title,
            stg_products.description,
            stg_products.category,
            stg_products.image_url,
            stg_products.price,
            stg_products.rating_rate,
            stg_products.rating_count
        from stg_products
        where
            stg_products.product_id = versions.product_id
            and stg_products.interval_start = versions.valid_from
        -- at most one row (the primary key): no order needed
        offset 0  -- noqa: AM09
    ) as first_observation
)

select * from described
