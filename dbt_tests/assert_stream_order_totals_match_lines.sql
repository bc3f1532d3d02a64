{{ config(severity="warn") }}
-- A paid stream order's total_amount should equal the sum of its item lines. Warn only: the
-- amount is the payment's word, the lines are the stream's, and revenue is counted from the
-- lines (fct_sales); a mismatch points at the producer, not at the warehouse. A daily run checks
-- the orders whose payment landed in its interval (run_interval_filter), with all their lines.
with

fct_order_events as (
    select
        order_id,
        event_type,
        line_amount,
        total_amount,
        landed_at
    from {{ ref('fct_order_events') }}
),

paid_in_run as (
    select distinct order_id
    from fct_order_events
    where
        event_type = 'order_paid'
        and {{ run_interval_filter('landed_at') }}
),

order_amounts as (
    select
        fct_order_events.order_id,
        coalesce(sum(fct_order_events.line_amount), 0) as lines_amount,
        max(fct_order_events.total_amount) as paid_amount
    from fct_order_events
    inner join paid_in_run
        on fct_order_events.order_id = paid_in_run.order_id
    group by fct_order_events.order_id
)

select * from order_amounts
where lines_amount <> paid_amount
