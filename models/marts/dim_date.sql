-- Calendar dimension: one row per UTC calendar day from the first fact date to a year past the
-- later of the last fact date and today (so stream events landing between batch builds still
-- find their day), plus the unknown member (date_key -1).
with

fct_orders as (
    select order_date from {{ ref('fct_orders') }}
),

fct_order_events as (
    select occurred_date from {{ ref('fct_order_events') }}
),

fact_dates as (
    select order_date as fact_date from fct_orders
    union all
    select occurred_date as fact_date from fct_order_events
),

bounds as (
    select
        coalesce(min(fact_date), {{ utc_date('now()') }}) as first_date,
        greatest(max(fact_date), {{ utc_date('now()') }}) + 365 as last_date
    from fact_dates
),

spine as (
    select cast(calendar_days.calendar_day as date) as date_day
    from bounds
    cross join
        lateral generate_series(
            cast(bounds.first_date as timestamp),
            cast(bounds.last_date as timestamp),
            interval '1 day'
        ) as calendar_days (calendar_day)
),

calendar as (
    select
        {{ date_key('date_day') }} as date_key,
        to_char(date_day, 'YYYY-MM') as calendar_month,
        trim(to_char(date_day, 'Month')) as month_name,
        trim(to_char(date_day, 'Day')) as day_name,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast(extract(isodow from date_day) as integer) as iso_day_of_week,
        cast(extract(week from date_day) as integer) as iso_week_number,
        extract(isodow from date_day) in (6, 7) as is_weekend,
        false as is_unknown_member,
        date_day
    from spine
),

unknown_member as (
    select
        -1 as date_key,
        cast(null as text) as calendar_month,
        cast(null as text) as month_name,
        cast(null as text) as day_name,
        cast(null as integer) as year_number,
        cast(null as integer) as quarter_number,
        cast(null as integer) as month_number,
        cast(null as integer) as day_of_month,
        cast(null as integer) as iso_day_of_week,
        cast(null as integer) as iso_week_number,
        cast(null as boolean) as is_weekend,
        true as is_unknown_member,
        cast(null as date) as date_day
),

unioned as (
    select * from calendar
    union all
    select * from unknown_member
)

select * from unioned
