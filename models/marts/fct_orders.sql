{{
    config(
        indexes=[
            {"columns": ["order_id"]},
            {"columns": ["product_key"]},
            {"columns": ["user_key"]},
            {"columns": ["date_key"]},
            {"columns": ["order_date"]},
        ],
    )
}}

-- Batch orders (Fake Store carts) at the grain of one row per cart line, priced at the product
-- version valid when the cart was placed (int_order_lines_priced), with order-level totals.
with

order_lines_priced as (
    select * from {{ ref('int_order_lines_priced') }}
),

order_totals as (
    select
        order_id,
        count(*) as order_line_count,
        sum(quantity) as order_item_count,
        sum(revenue) as order_total
    from order_lines_priced
    group by order_id
),

final as (
    select
        order_lines_priced.order_line_id,
        order_lines_priced.order_id,
        order_lines_priced.product_key,
        order_lines_priced.user_key,
        {{ date_key('order_lines_priced.order_date') }} as date_key,
        order_lines_priced.product_id,
        order_lines_priced.user_id,
        order_lines_priced.load_id,
        order_lines_priced.line_number,
        order_lines_priced.quantity,
        order_lines_priced.unit_price,
        order_lines_priced.revenue,
        order_totals.order_line_count,
        order_totals.order_item_count,
        order_totals.order_total,
        order_lines_priced.is_priced_from_earliest_version,
        order_lines_priced.order_date,
        order_lines_priced.ordered_at
    from order_lines_priced
    inner join order_totals
        on order_lines_priced.order_id = order_totals.order_id
)

select * from final
