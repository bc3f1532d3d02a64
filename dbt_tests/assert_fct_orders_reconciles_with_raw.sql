-- Reconciliation, computed from the raw JSON without any model (product snapshots: the manifest
-- joined to the payloads by the macro fakestore_snapshot, docs/decisions/0027): every landed
-- cart line (each cart's latest landing) × the price of its product as landed in the product
-- snapshot that was current at the cart's date (the latest snapshot interval starting at or
-- before it; a cart older than every snapshot of the product takes the product's earliest
-- snapshot). Line count and revenue must equal fct_orders per order and in total. Returns one
-- row per mismatch.
with

raw_carts as (
    select
        record_id as cart_id,
        payload,
        interval_start,
        extracted_at,
        row_number() over (
            partition by record_id
            order by extracted_at desc, interval_start desc
        ) as landing_rank
    from {{ source('fakestore', 'carts') }}
),

-- The product snapshot current at each cart's date: the latest snapshot interval starting at or
-- before it (one backward probe of the primary key per cart).
dated_carts as (
    select
        raw_carts.cart_id,
        raw_carts.payload,
        cast(raw_carts.payload ->> 'date' as timestamptz) as ordered_at
    from raw_carts
    where raw_carts.landing_rank = 1
),

snapshot_carts as (
    select
        dated_carts.cart_id,
        dated_carts.payload,
        dated_carts.ordered_at,
        (
            select snapshots.interval_start
            from {{ source('fakestore', 'products') }} as snapshots
            where snapshots.interval_start <= dated_carts.ordered_at
            order by snapshots.interval_start desc
            limit 1
        ) as snapshot_start
    from dated_carts
),

raw_cart_lines as (
    select
        snapshot_carts.cart_id,
        cast(line_item ->> 'productId' as bigint) as product_id,
        cast(line_item ->> 'quantity' as integer) as quantity,
        snapshot_carts.ordered_at,
        snapshot_carts.snapshot_start
    from snapshot_carts
    cross join lateral jsonb_array_elements(snapshot_carts.payload -> 'products') as line_item
),

-- Usually the product is in that snapshot: one primary-key lookup per line.
current_snapshot_prices as (
    select
        raw_cart_lines.cart_id,
        raw_cart_lines.product_id,
        raw_cart_lines.quantity,
        raw_cart_lines.ordered_at,
        (
            select cast(snapshot_products.payload ->> 'price' as numeric)
            from ({{ fakestore_snapshot('products', 'product_payloads') }}) as snapshot_products
            where
                snapshot_products.interval_start = raw_cart_lines.snapshot_start
                and snapshot_products.record_id = raw_cart_lines.product_id
        ) as price
    from raw_cart_lines
),

raw_products as (
    select
        record_id as product_id,
        interval_start,
        cast(payload ->> 'price' as numeric) as price
    from ({{ fakestore_snapshot('products', 'product_payloads') }}) as snapshot_products
),

-- Otherwise (the product was missing from that snapshot, or the cart predates it): the latest
-- snapshot of the product at or before the cart's date, else its earliest one.
fallback_prices as (
    select
        current_snapshot_prices.cart_id,
        current_snapshot_prices.product_id,
        current_snapshot_prices.quantity,
        (
            array_agg(
                raw_products.price
                order by
                    raw_products.interval_start <= current_snapshot_prices.ordered_at desc,
                    case
                        when raw_products.interval_start <= current_snapshot_prices.ordered_at
                            then raw_products.interval_start
                    end desc nulls last,
                    raw_products.interval_start asc
            )
        )[1] as price
    from current_snapshot_prices
    left join raw_products
        on current_snapshot_prices.product_id = raw_products.product_id
    where current_snapshot_prices.price is null
    group by
        current_snapshot_prices.cart_id,
        current_snapshot_prices.product_id,
        current_snapshot_prices.quantity,
        current_snapshot_prices.ordered_at
),

raw_priced_lines as (
    select
        cart_id,
        quantity * price as revenue
    from current_snapshot_prices
    where price is not null
    union all
    select
        cart_id,
        quantity * price as revenue
    from fallback_prices
),

raw_orders as (
    select
        cart_id as order_id,
        count(*) as line_count,
        sum(revenue) as revenue
    from raw_priced_lines
    group by cart_id
),

modelled_orders as (
    select
        order_id,
        count(*) as line_count,
        sum(revenue) as revenue
    from {{ ref('fct_orders') }}
    group by order_id
),

per_order as (
    select
        'order ' || coalesce(raw_orders.order_id, modelled_orders.order_id) as scope,
        raw_orders.line_count as raw_line_count,
        modelled_orders.line_count as modelled_line_count,
        raw_orders.revenue as raw_revenue,
        modelled_orders.revenue as modelled_revenue
    from raw_orders
    full outer join modelled_orders
        on raw_orders.order_id = modelled_orders.order_id
),

totals as (
    select
        'total' as scope,
        (select sum(line_count) from raw_orders) as raw_line_count,
        (select sum(line_count) from modelled_orders) as modelled_line_count,
        (select sum(revenue) from raw_orders) as raw_revenue,
        (select sum(revenue) from modelled_orders) as modelled_revenue
),

compared as (
    select * from totals
    union all
    select * from per_order
)

select * from compared
where
    raw_line_count is distinct from modelled_line_count
    or raw_revenue is distinct from modelled_revenue
