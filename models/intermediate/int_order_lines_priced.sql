-- Cart lines with the product and user versions valid when the cart was placed, and so the
-- point-in-time unit price. An order older than a product's first known version takes the
-- earliest version; an order placed while the product was missing takes the last version
-- before it (the lookup ranges of int_products_versioned). A product or user the history has
-- never seen maps to the dimensions' unknown member, with no price.
with

cart_lines as (
    select * from {{ ref('int_cart_lines_unnested') }}
),

products_versioned as (
    select
        product_key,
        product_id,
        price,
        valid_from,
        lookup_from,
        lookup_to
    from {{ ref('int_products_versioned') }}
),

users_versioned as (
    select
        user_key,
        user_id,
        lookup_from,
        lookup_to
    from {{ ref('int_users_versioned') }}
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
        cart_lines.ordered_at
    from cart_lines
    left join products_versioned
        on {{ version_valid_at('products_versioned', 'cart_lines', 'product_id', 'ordered_at') }}
    left join users_versioned
        on {{ version_valid_at('users_versioned', 'cart_lines', 'user_id', 'ordered_at') }}
)

select * from priced
