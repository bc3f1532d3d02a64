{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="order_id",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(ref('stg_audit__extract_runs')) }}",
        indexes=[
            {"columns": ["order_id"]},
            {"columns": ["load_id"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs')) %}

-- One row per cart line: the carts' JSON line-item arrays as rows, from each cart's latest
-- landing. Incremental (docs/decisions/0037): a run reads only the carts of the extract runs
-- that finished since the model's watermark and rewrites those carts' lines (delete+insert on
-- order_id, so a re-landed cart with fewer lines leaves none behind); a re-run or backfill of
-- an interval already read empties the model first (pre-hook reset_on_backfill).
with

stg_extract_runs as (
    select
        load_id,
        is_complete_load,
        interval_start,
        interval_end,
        finished_at
    from {{ ref('stg_audit__extract_runs') }}
),

watermarks as (
    {{ extract_watermarks(bounds) }}
),

new_extract_runs as (
    {{ new_extract_runs('stg_extract_runs', bounds) }}
),

-- Raw holds only what succeeded runs landed, so the new runs' carts are all carts on a full
-- build; the load_id index finds a daily run's few.
stg_carts as (
    select
        cart_id,
        user_id,
        load_id,
        line_items,
        interval_start,
        ordered_at,
        extracted_at
    from {{ ref('stg_fakestore__carts') }}
    where load_id in (select new_extract_runs.load_id from new_extract_runs)
),

-- A cart lands once per interval containing its date; overlapping extractions (say, a weekly
-- backfill over daily runs) can land it twice. The latest extraction wins (a newer run's
-- landing is newer than any this model read before, so ranking the new ones is enough).
ranked_carts as (
    select
        stg_carts.*,
        row_number() over (
            partition by stg_carts.cart_id
            order by stg_carts.extracted_at desc, stg_carts.interval_start desc
        ) as landing_rank
    from stg_carts
),

latest_carts as (
    select * from ranked_carts
    where landing_rank = 1
),

unnested as (
    select
        latest_carts.cart_id || '-' || cart_line.line_number as order_line_id,
        latest_carts.cart_id as order_id,
        cast(cart_line.line_item ->> 'productId' as bigint) as product_id,
        latest_carts.user_id,
        latest_carts.load_id,
        cast(cart_line.line_number as integer) as line_number,
        cast(cart_line.line_item ->> 'quantity' as integer) as quantity,
        latest_carts.ordered_at,
        watermarks.current_watermark as extracted_through
    from latest_carts
    cross join watermarks
    cross join
        lateral jsonb_array_elements(latest_carts.line_items)
        with ordinality as cart_line (line_item, line_number)
)

select * from unnested
