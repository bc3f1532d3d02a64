-- Which products bring in the most revenue? One row per source × product that sold.
with

fct_sales as (
    select
        order_id,
        product_id,
        source,
        quantity,
        revenue
    from {{ ref('fct_sales') }}
),

dim_products as (
    select
        product_id,
        title,
        category,
        valid_from
    from {{ ref('dim_products') }}
    where not is_unknown_member
),

-- The label of a product: its latest version (the current one, or the last before it left).
latest_products as (
    select
        product_id,
        title,
        category,
        row_number() over (partition by product_id order by valid_from desc) as recency_rank
    from dim_products
),

-- Per source and for all sources together (source 'all').
product_revenue as (
    select
        {{ sales_source() }} as source,
        product_id,
        {{ sales_figures() }}
    from fct_sales
    {{ group_by_sales_source(['product_id']) }}
),

ranked as (
    select
        product_revenue.source,
        product_revenue.product_id,
        coalesce(latest_products.title, 'Unknown product') as product_title,
        coalesce(latest_products.category, 'unknown') as category,
        row_number() over (
            partition by product_revenue.source
            order by product_revenue.revenue desc, product_revenue.product_id asc
        ) as revenue_rank,
        product_revenue.order_count,
        product_revenue.item_count,
        product_revenue.revenue,
        round(product_revenue.revenue, 2) as revenue_display,
        product_revenue.revenue
        / nullif(sum(product_revenue.revenue) over (partition by product_revenue.source), 0)
            as revenue_share,
        latest_products.product_id is null as is_unknown_product
    from product_revenue
    left join latest_products
        on
            product_revenue.product_id = latest_products.product_id
            and latest_products.recency_rank = 1
)

select * from ranked
