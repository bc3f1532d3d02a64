{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="date_key",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(
            ref('stg_audit__extract_runs'), [ref('fct_orders')]
        ) }}",
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs'), [
    ref('fct_orders'),
]) %}

-- Calendar dimension: one row per UTC calendar day from the first loaded day (the earliest of
-- the first succeeded extract interval, the first order and the first stream event) to 365 days
-- past the later of the newest succeeded extract's interval_end and the newest landed event's
-- day (so stream events landing between batch builds still find their day), plus the unknown
-- member (date_key -1). No clock: the same raw data gives the same calendar on any day. Each
-- bound is an index-backed minimum or maximum, never a scan of the facts.
-- Incremental (docs/decisions/0037): a day's row never changes, so a run inserts only the days
-- missing; a re-run or backfill of an interval already read empties it first (reset_on_backfill),
-- as it may move the first order day later.
with

stg_extract_runs as (
    select
        is_complete_load,
        interval_start,
        interval_end
    from {{ ref('stg_audit__extract_runs') }}
),

fct_orders as (
    select order_date from {{ ref('fct_orders') }}
),

fct_order_events as (
    select
        date_key,
        landed_at
    from {{ ref('fct_order_events') }}
),

watermarks as (
    {{ extract_watermarks(bounds) }}
),

extract_bounds as (
    select
        {{ utc_date('min(interval_start)') }} as first_interval_date,
        {{ utc_date('max(interval_end)') }} as last_interval_end_date
    from stg_extract_runs
    where is_complete_load
),

order_bounds as (
    select min(order_date) as first_order_date
    from fct_orders
),

event_bounds as (
    select
        to_date(cast(min(date_key) as text), 'YYYYMMDD') as first_event_date,
        {{ utc_date('max(landed_at)') }} as last_landed_date
    from fct_order_events
),

bounds as (
    select
        least(
            extract_bounds.first_interval_date,
            order_bounds.first_order_date,
            event_bounds.first_event_date
        ) as first_date,
        greatest(extract_bounds.last_interval_end_date, event_bounds.last_landed_date) + 365
            as last_date
    from extract_bounds
    cross join order_bounds
    cross join event_bounds
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
    {% if is_incremental() %}
        where not exists (
            select 1 from {{ this }} as already_built
            where already_built.date_day = cast(calendar_days.calendar_day as date)
        )
    {% endif %}
),

calendar as (
    select
        {{ date_key('spine.date_day') }} as date_key,
        to_char(spine.date_day, 'YYYY-MM') as calendar_month,
        trim(to_char(spine.date_day, 'Month')) as month_name,
        trim(to_char(spine.date_day, 'Day')) as day_name,
        cast(extract(year from spine.date_day) as integer) as year_number,
        cast(extract(quarter from spine.date_day) as integer) as quarter_number,
        cast(extract(month from spine.date_day) as integer) as month_number,
        cast(extract(day from spine.date_day) as integer) as day_of_month,
        cast(extract(isodow from spine.date_day) as integer) as iso_day_of_week,
        cast(extract(week from spine.date_day) as integer) as iso_week_number,
        extract(isodow from spine.date_day) in (6, 7) as is_weekend,
        false as is_unknown_member,
        spine.date_day,
        watermarks.current_watermark as extracted_through
    from spine
    cross join watermarks
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
        cast(null as date) as date_day,
        watermarks.current_watermark as extracted_through
    from watermarks
),

unioned as (
    select * from calendar
    union all
    select * from unknown_member
)

select * from unioned
