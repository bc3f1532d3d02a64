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

sales_by_source as (
    select * from fct_sales
    union all
    select
        order_id,
        product_key,
        product_id,
        'all' as source,
        quantity,
        revenue
    from fct_sales
),

category_revenue as (
    select
        sales_by_source.source,
        dim_products.category,
        count(distinct sales_by_source.product_id) as product_count,
        count(distinct sales_by_source.order_id) as order_count,
        sum(sales_by_source.quantity) as item_count,
        coalesce(sum(sales_by_source.revenue), 0) as revenue
    from sales_by_source
    inner join dim_products
        on sales_by_source.product_key = dim_products.product_key
    group by sales_by_source.source, dim_products.category
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
