-- Is the stream landing events, and which? One row per minute × event type in which the
-- consumer landed events of that type (a minute without a landing has no row). A minute is
-- taken from landed_at, the start of the consumer's landing transaction, in UTC.
-- minutes_before_latest counts back from the latest landed minute of any type, so a panel can
-- show the stream's last hour whether or not it is still running.
with

fct_order_events as (
    select
        order_id,
        event_type,
        landed_at
    from {{ ref('fct_order_events') }}
),

per_minute as (
    select
        event_type,
        count(*) as event_count,
        count(distinct order_id) as order_count,
        date_trunc('minute', landed_at, 'UTC') as landed_minute
    from fct_order_events
    group by event_type, date_trunc('minute', landed_at, 'UTC')
),

counted_back as (
    select
        event_type,
        event_count,
        order_count,
        cast(
            extract(epoch from max(landed_minute) over () - landed_minute) / 60 as integer
        ) as minutes_before_latest,
        landed_minute
    from per_minute
)

select * from counted_back
