{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="product_key",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(
            ref('stg_audit__extract_runs'), [ref('int_products_versioned')]
        ) }}",
        indexes=[
            {"columns": ["product_id", "valid_from"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs'), [
    ref('int_products_versioned'),
]) %}

-- Product dimension, SCD type 2: one row per product version, plus the unknown member.
with

watermarks as (
    {{ extract_watermarks(bounds) }}
),

-- The versions int_products_versioned (re)wrote since this model's watermark; on a full build
-- (or after a reset) every version.
products_versioned as (
    select * from {{ ref('int_products_versioned') }}
    {% if is_incremental() %}
        where extracted_through > {{ bounds.previous }}
    {% endif %}
),

known_products as (
    select
        product_key,
        product_id,
        first_load_id,
        title,
        description,
        category,
        image_url,
        {{ price_band('price') }} as price_band,
        payload_hash,
        price,
        rating_rate,
        rating_count,
        version_number,
        false as is_unknown_member,
        is_current,
        valid_from,
        valid_to,
        extracted_through
    from products_versioned
),

-- Facts whose product the history has never seen point here (product_key 'unknown').
unknown_member as (
    select
        'unknown' as product_key,
        cast(-1 as bigint) as product_id,
        cast(null as uuid) as first_load_id,
        'Unknown product' as title,
        cast(null as text) as description,
        'unknown' as category,
        cast(null as text) as image_url,
        'unknown' as price_band,
        cast(null as text) as payload_hash,
        cast(null as numeric) as price,
        cast(null as numeric) as rating_rate,
        cast(null as integer) as rating_count,
        0 as version_number,
        true as is_unknown_member,
        true as is_current,
        cast('1900-01-01 00:00:00+00' as timestamptz) as valid_from,
        cast(null as timestamptz) as valid_to,
        watermarks.current_watermark as extracted_through
    from watermarks
),

unioned as (
    select * from known_products
    union all
    select * from unknown_member
)

select * from unioned
