{{ config(materialized="view", tags=["batch"]) }}

-- Sales from both sources at one grain: one row per paid order line. Batch: every cart line
-- (fct_orders; a cart is an order). Stream: the item_added events of orders that have an
-- order_paid and no order_cancelled event (fct_order_events), dated at the payment.
-- A view, so newly merged stream events show without rebuilding anything.
with

fct_orders as (
    select
        order_line_id,
        order_id,
        product_key,
        user_key,
        date_key,
        product_id,
        user_id,
        quantity,
        unit_price,
        revenue,
        order_date,
        ordered_at
    from {{ ref('fct_orders') }}
),

fct_order_events as (
    select
        event_id,
        order_id,
        product_key,
        user_key,
        product_id,
        user_id,
        event_type,
        quantity,
        unit_price,
        line_amount,
        occurred_at
    from {{ ref('fct_order_events') }}
),

stream_orders as (
    select
        order_id,
        bool_or(event_type = 'order_cancelled') as is_cancelled,
        min(occurred_at) filter (where event_type = 'order_paid') as paid_at
    from fct_order_events
    group by order_id
),

paid_stream_orders as (
    select
        order_id,
        paid_at
    from stream_orders
    where paid_at is not null and not is_cancelled
),

batch_lines as (
    select
        order_line_id as sale_line_id,
        cast(order_id as text) as order_id,
        product_key,
        user_key,
        date_key,
        product_id,
        user_id,
        'batch' as source,
        quantity,
        unit_price,
        revenue,
        order_date as sale_date,
        ordered_at as sold_at
    from fct_orders
),

stream_lines as (
    select
        cast(fct_order_events.event_id as text) as sale_line_id,
        cast(fct_order_events.order_id as text) as order_id,
        fct_order_events.product_key,
        fct_order_events.user_key,
        {{ date_key(utc_date('paid_stream_orders.paid_at')) }} as date_key,
        fct_order_events.product_id,
        fct_order_events.user_id,
        'stream' as source,
        fct_order_events.quantity,
        fct_order_events.unit_price,
        fct_order_events.line_amount as revenue,
        {{ utc_date('paid_stream_orders.paid_at') }} as sale_date,
        paid_stream_orders.paid_at as sold_at
    from fct_order_events
    inner join paid_stream_orders
        on fct_order_events.order_id = paid_stream_orders.order_id
    where fct_order_events.event_type = 'item_added'
),

unioned as (
    select * from batch_lines
    union all
    select * from stream_lines
)

select * from unioned
