-- One row per cart line: the carts' JSON line-item arrays as rows, from each cart's latest
-- landing.
with

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
),

-- A cart lands once per interval containing its date; overlapping extractions (say, a weekly
-- backfill over daily runs) can land it twice. The latest extraction wins.
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
        latest_carts.ordered_at
    from latest_carts
    cross join
        lateral jsonb_array_elements(latest_carts.line_items)
        with ordinality as cart_line (line_item, line_number)
)

select * from unnested
