{{ config(severity="warn") }}
-- A paid stream order's total_amount should equal the sum of its item lines. Warn only: the
-- amount is the payment's word, the lines are the stream's, and revenue is counted from the
-- lines (fct_sales); a mismatch points at the producer, not at the warehouse.
with

fct_order_events as (
    select
        order_id,
        event_type,
        line_amount,
        total_amount
    from {{ ref('fct_order_events') }}
),

order_amounts as (
    select
        order_id,
        coalesce(sum(line_amount), 0) as lines_amount,
        max(total_amount) as paid_amount
    from fct_order_events
    group by order_id
    having bool_or(event_type = 'order_paid')
)

select * from order_amounts
where lines_amount <> paid_amount
