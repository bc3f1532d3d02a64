{{
    config(
        indexes=[
            {"columns": ["user_id", "valid_from"]},
        ],
    )
}}

-- User dimension, SCD type 2: one row per user version, plus the unknown member, enriched with
-- each user's purchase history (both sources, as of this build). No email or phone
-- (docs/decisions/0032).
with

users_versioned as (
    select * from {{ ref('int_users_versioned') }}
),

fct_sales as (
    select
        user_id,
        order_id,
        source,
        quantity,
        revenue,
        sold_at
    from {{ ref('fct_sales') }}
),

-- Per user (all versions): orders are distinct per source (cart ids and stream uuids).
purchase_history as (
    select
        user_id,
        count(distinct source || ':' || order_id) as lifetime_order_count,
        sum(quantity) as lifetime_item_count,
        coalesce(sum(revenue), 0) as lifetime_revenue,
        min(sold_at) as first_ordered_at,
        max(sold_at) as last_ordered_at
    from fct_sales
    group by user_id
),

known_users as (
    select
        users_versioned.user_key,
        users_versioned.user_id,
        users_versioned.first_load_id,
        users_versioned.username,
        users_versioned.first_name,
        users_versioned.last_name,
        users_versioned.city,
        users_versioned.zipcode,
        users_versioned.geolocation_lat,
        users_versioned.geolocation_long,
        users_versioned.email_domain,
        users_versioned.payload_hash,
        users_versioned.latitude,
        users_versioned.longitude,
        users_versioned.version_number,
        coalesce(purchase_history.lifetime_order_count, 0) as lifetime_order_count,
        coalesce(purchase_history.lifetime_item_count, 0) as lifetime_item_count,
        coalesce(purchase_history.lifetime_revenue, 0) as lifetime_revenue,
        users_versioned.has_phone,
        false as is_unknown_member,
        users_versioned.is_current,
        users_versioned.valid_from,
        users_versioned.valid_to,
        purchase_history.first_ordered_at,
        purchase_history.last_ordered_at
    from users_versioned
    left join purchase_history
        on users_versioned.user_id = purchase_history.user_id
),

-- Facts whose user the history has never seen point here (user_key 'unknown').
unknown_member as (
    select
        'unknown' as user_key,
        cast(-1 as bigint) as user_id,
        cast(null as uuid) as first_load_id,
        'unknown' as username,
        cast(null as text) as first_name,
        cast(null as text) as last_name,
        cast(null as text) as city,
        cast(null as text) as zipcode,
        cast(null as text) as geolocation_lat,
        cast(null as text) as geolocation_long,
        cast(null as text) as email_domain,
        cast(null as text) as payload_hash,
        cast(null as numeric) as latitude,
        cast(null as numeric) as longitude,
        0 as version_number,
        cast(0 as bigint) as lifetime_order_count,
        cast(0 as bigint) as lifetime_item_count,
        cast(0 as numeric) as lifetime_revenue,
        false as has_phone,
        true as is_unknown_member,
        true as is_current,
        cast('1900-01-01 00:00:00+00' as timestamptz) as valid_from,
        cast(null as timestamptz) as valid_to,
        cast(null as timestamptz) as first_ordered_at,
        cast(null as timestamptz) as last_ordered_at
),

unioned as (
    select * from known_users
    union all
    select * from unknown_member
)

select * from unioned
