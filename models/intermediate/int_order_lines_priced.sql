{{
    config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="order_id",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(ref('stg_audit__extract_runs'), [
            ref('int_cart_lines_unnested'),
            ref('int_products_versioned'),
            ref('int_users_versioned'),
        ]) }}",
        indexes=[
            {"columns": ["order_id"]},
            {"columns": ["product_id", "ordered_at"]},
            {"columns": ["user_id", "ordered_at"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs'), [
    ref('int_cart_lines_unnested'),
    ref('int_products_versioned'),
    ref('int_users_versioned'),
]) %}

-- Cart lines with the product and user versions valid when the cart was placed, and so the
-- point-in-time unit price. An order older than a product's first known version takes the
-- earliest version; an order placed while the product was missing takes the last version
-- before it (the lookup ranges of int_products_versioned). A product or user the history has
-- never seen maps to the dimensions' unknown member, with no price.
-- Incremental (docs/decisions/0037): a run (re)prices whole orders (delete+insert on order_id):
-- the orders of carts the new extract runs landed, and the orders already priced whose product
-- or user got a version first landed by those runs, from that version's lookup_from on (a
-- first version's is -infinity: every order of a product that was unknown until now). A
-- re-run or backfill of an interval already read empties the model first (reset_on_backfill).
with

stg_extract_runs as (
    select
        load_id,
        is_complete_load,
        interval_start,
        interval_end,
        finished_at
    from {{ ref('stg_audit__extract_runs') }}
),

watermarks as (
    {{ extract_watermarks(bounds) }}
),

new_extract_runs as (
    {{ new_extract_runs('stg_extract_runs', bounds) }}
),

-- Imports read more than once are `not materialized`: inlined, the filters on the run's few
-- rows reach the tables' indexes instead of a copy of the whole history (decision 0039).
all_cart_lines as not materialized (
    select
        order_line_id,
        order_id,
        product_id,
        user_id,
        load_id,
        line_number,
        quantity,
        ordered_at
    from {{ ref('int_cart_lines_unnested') }}
),

products_versioned as not materialized (
    select
        product_key,
        product_id,
        first_load_id,
        price,
        valid_from,
        lookup_from,
        lookup_to
    from {{ ref('int_products_versioned') }}
),

users_versioned as not materialized (
    select
        user_key,
        user_id,
        first_load_id,
        lookup_from,
        lookup_to
    from {{ ref('int_users_versioned') }}
),

{% if is_incremental() %}
    -- Orders already priced that a version first landed by the new runs now covers.
    repriced_orders as (
        {{ covered_by_new_versions(
            this, 'order_id', 'ordered_at', 'products_versioned', 'product_id', 'new_extract_runs'
        ) }}
        union
        {{ covered_by_new_versions(
            this, 'order_id', 'ordered_at', 'users_versioned', 'user_id', 'new_extract_runs'
        ) }}
    ),

    changed_orders as (
        select all_cart_lines.order_id
        from all_cart_lines
        where all_cart_lines.load_id in (select new_extract_runs.load_id from new_extract_runs)
        union
        select repriced_orders.order_id from repriced_orders
    ),
{% endif %}

cart_lines as (
    select * from all_cart_lines
    {% if is_incremental() %}
        where order_id in (select changed_orders.order_id from changed_orders)
    {% endif %}
),

priced as (
    select
        cart_lines.order_line_id,
        cart_lines.order_id,
        coalesce(products_versioned.product_key, 'unknown') as product_key,
        coalesce(users_versioned.user_key, 'unknown') as user_key,
        cart_lines.product_id,
        cart_lines.user_id,
        cart_lines.load_id,
        cart_lines.line_number,
        cart_lines.quantity,
        products_versioned.price as unit_price,
        cart_lines.quantity * products_versioned.price as revenue,
        coalesce(cart_lines.ordered_at < products_versioned.valid_from, false)
            as is_priced_from_earliest_version,
        {{ utc_date('cart_lines.ordered_at') }} as order_date,
        cart_lines.ordered_at,
        watermarks.current_watermark as extracted_through
    from cart_lines
    cross join watermarks
    left join products_versioned
        on {{ version_valid_at('products_versioned', 'cart_lines', 'product_id', 'ordered_at') }}
    left join users_versioned
        on {{ version_valid_at('users_versioned', 'cart_lines', 'user_id', 'ordered_at') }}
)

select * from priced
