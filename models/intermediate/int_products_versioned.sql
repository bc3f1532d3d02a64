{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="product_key",
        on_schema_change="fail",
        pre_hook="{{ scd2_reset_on_backfill(ref('stg_fakestore__products')) }}",
        indexes=[
            {"columns": ["product_key"], "unique": true},
            {"columns": ["product_id", "lookup_from"]},
        ],
    )
}}

-- SCD type 2 history of products, derived from the raw snapshot history (docs/decisions/0031).
-- Incremental: a run reads only the intervals after the last one processed, plus each product's
-- last version that can still change (open, or closed but seen again), and merges the
-- recomputed versions on product_key. A re-run or backfill of an older interval resets the model
-- first (pre-hook), so it is derived from all of raw again: history is never patched by hand.
with

-- The snapshot history to derive versions from: hashes only (narrow; read once).
stg_product_snapshots as (
    select
        product_id,
        load_id,
        payload_hash,
        interval_start,
        extracted_at
    from {{ ref('stg_fakestore__products') }}
    {% if is_incremental() %}
        where interval_start > (
            select coalesce(max(processed.last_seen_at), cast('-infinity' as timestamptz))
            from {{ this }} as processed
        )
    {% endif %}
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
        interval_start,
        is_complete_load
    from {{ ref('stg_audit__extract_runs') }}
),

complete_intervals as (
    select distinct interval_start
    from stg_extract_runs
    where is_complete_load
),

{% if is_incremental() %}
    -- Each product's last version, where new intervals can still change it: the open ones,
    -- and the closed ones of products seen again.
    ranked_versions as (
        select
            processed.product_id,
            processed.payload_hash,
            processed.first_load_id,
            processed.version_number,
            processed.valid_from,
            processed.last_seen_at,
            processed.last_extracted_at,
            row_number() over (
                partition by processed.product_id order by processed.valid_from desc
            ) as recency_rank
        from {{ this }} as processed
        where
            processed.valid_to is null
            or processed.product_id in (
                select stg_product_snapshots.product_id from stg_product_snapshots
            )
    ),

    tail_versions as (
        select * from ranked_versions
        where recency_rank = 1
    ),
{% endif %}

-- One row per product per interval; a tail version stands in as one row at its last interval
-- that carries its first one.
observations as (
    select
        product_id,
        payload_hash,
        load_id,
        interval_start,
        extracted_at,
        interval_start as first_interval_start
    from stg_product_snapshots
    {% if is_incremental() %}
        union all
        select
            product_id,
            payload_hash,
            first_load_id as load_id,
            last_seen_at as interval_start,
            last_extracted_at as extracted_at,
            valid_from as first_interval_start
        from tail_versions
    {% endif %}
),

versions as (
    {{ scd2_versions('observations', 'product_id', 'complete_intervals') }}
),

-- Version numbers continue the existing history.
{% if is_incremental() %}
    version_offsets as (
        select
            product_id,
            version_number - 1 as version_offset
        from tail_versions
    ),
{% else %}
    version_offsets as (
        select
            cast(null as bigint) as product_id,
            cast(0 as bigint) as version_offset
        where false
    ),
{% endif %}

numbered as (
    select
        versions.*,
        versions.version_number + coalesce(version_offsets.version_offset, 0)
            as history_version_number
    from versions
    left join version_offsets
        on versions.product_id = version_offsets.product_id
),

-- A version's attributes are those of its first observation (same hash, same payload).
described as (
    select
        {{ surrogate_key(['numbered.product_id', 'extract(epoch from numbered.valid_from)']) }}
            as product_key,
        numbered.product_id,
        numbered.first_load_id,
        first_observation.title,
        first_observation.description,
        first_observation.category,
        first_observation.image_url,
        numbered.payload_hash,
        first_observation.price,
        first_observation.rating_rate,
        first_observation.rating_count,
        numbered.history_version_number as version_number,
        numbered.valid_to is null as is_current,
        numbered.valid_from,
        numbered.valid_to,
        -- Point-in-time lookups (fct_orders, fct_order_events): the first version also covers
        -- times before it was first seen, and a version covers a gap while the product was
        -- missing, until the next version starts.
        case
            when numbered.history_version_number = 1 then cast('-infinity' as timestamptz)
            else numbered.valid_from
        end as lookup_from,
        coalesce(
            lead(numbered.valid_from) over (
                partition by numbered.product_id order by numbered.history_version_number
            ),
            cast('infinity' as timestamptz)
        ) as lookup_to,
        numbered.last_seen_at,
        numbered.last_extracted_at
    from numbered
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
            stg_products.product_id = numbered.product_id
            and stg_products.interval_start = numbered.valid_from
        -- at most one row (the primary key): no order needed
        offset 0  -- noqa: AM09
    ) as first_observation
)

select * from described
