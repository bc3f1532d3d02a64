-- How do orders and revenue move day by day? One row per source × calendar day from the first to
-- the last sale day (any source), from the date spine: a day without sales shows zeros. The
-- moving averages cover the 7 calendar days ending on the row's day.
with

fct_sales as (
    select
        order_id,
        source,
        quantity,
        revenue,
        sale_date
    from {{ ref('fct_sales') }}
),

dim_date as (
    select
        date_key,
        date_day
    from {{ ref('dim_date') }}
    where not is_unknown_member
),

sources as (
    select source
    from {{ sales_sources() }}
),

sale_bounds as (
    select
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date
    from fct_sales
),

calendar_days as (
    select
        dim_date.date_key,
        dim_date.date_day
    from dim_date
    inner join sale_bounds
        on dim_date.date_day between sale_bounds.first_sale_date and sale_bounds.last_sale_date
),

-- Per source and for all sources together (source 'all').
daily_sales as (
    select
        {{ sales_source() }} as source,
        sale_date,
        {{ sales_figures() }}
    from fct_sales
    {{ group_by_sales_source(['sale_date']) }}
),

daily as (
    select
        sources.source,
        calendar_days.date_key,
        coalesce(daily_sales.order_count, 0) as order_count,
        coalesce(daily_sales.item_count, 0) as item_count,
        coalesce(daily_sales.revenue, 0) as revenue,
        calendar_days.date_day
    from calendar_days
    cross join sources
    left join daily_sales
        on
            sources.source = daily_sales.source
            and calendar_days.date_day = daily_sales.sale_date
),

trended as (
    select
        source,
        date_key,
        order_count,
        item_count,
        revenue,
        round(revenue, 2) as revenue_display,
        avg(order_count) over seven_days as order_count_7d_avg,
        avg(revenue) over seven_days as revenue_7d_avg,
        round(avg(revenue) over seven_days, 2) as revenue_7d_avg_display,
        count(*) over seven_days as days_in_window,
        date_day
    from daily
    window seven_days as (
        partition by source
        order by date_day
        range between interval '6 days' preceding and current row
    )
)

select * from trended
