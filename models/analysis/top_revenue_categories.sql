-- Which categories bring in the most revenue? One row per source × category that sold. A sale
-- counts for the category of the product version it was sold at.
with

fct_sales as (
    select
        order_id,
        product_key,
        product_id,
        source,
        quantity,
        revenue
    from {{ ref('fct_sales') }}
),

dim_products as (
    select
        product_key,
        category
    from {{ ref('dim_products') }}
),

category_sales as (
    select
        fct_sales.order_id,
        fct_sales.product_id,
        fct_sales.source,
        dim_products.category,
        fct_sales.quantity,
        fct_sales.revenue
    from fct_sales
    inner join dim_products
        on fct_sales.product_key = dim_products.product_key
),

-- Per source and for all sources together (source 'all').
category_revenue as (
    select
        {{ sales_source() }} as source,
        category,
        count(distinct product_id) as product_count,
        {{ sales_figures() }}
    from category_sales
    {{ group_by_sales_source(['category']) }}
),

ranked as (
    select
        source,
        category,
        row_number() over (
            partition by source order by revenue desc, category asc
        ) as revenue_rank,
        product_count,
        order_count,
        item_count,
        revenue,
        round(revenue, 2) as revenue_display,
        revenue / nullif(sum(revenue) over (partition by source), 0) as revenue_share
    from category_revenue
)

select * from ranked
