-- What does each user buy? One row per source × user: every user the shop knows (with zeros when
-- they bought nothing from that source), plus any unknown user id that appears in sales.
with

fct_sales as (
    select
        order_id,
        user_id,
        source,
        quantity,
        revenue,
        sold_at
    from {{ ref('fct_sales') }}
),

dim_users as (
    select
        user_id,
        username,
        city,
        valid_from
    from {{ ref('dim_users') }}
    where not is_unknown_member
),

-- A user's label: their latest version.
latest_users as (
    select
        user_id,
        username,
        city,
        row_number() over (partition by user_id order by valid_from desc) as recency_rank
    from dim_users
),

sources as (
    select source
    from {{ sales_sources() }}
),

all_user_ids as (
    select user_id from latest_users
    union
    select user_id from fct_sales
),

-- Per source and for all sources together (source 'all').
user_purchases as (
    select
        {{ sales_source() }} as source,
        user_id,
        {{ sales_figures() }},
        min(sold_at) as first_ordered_at,
        max(sold_at) as last_ordered_at
    from fct_sales
    {{ group_by_sales_source(['user_id']) }}
),

final as (
    select
        sources.source,
        all_user_ids.user_id,
        latest_users.username,
        latest_users.city,
        coalesce(user_purchases.order_count, 0) as order_count,
        coalesce(user_purchases.item_count, 0) as item_count,
        coalesce(user_purchases.revenue, 0) as revenue,
        round(coalesce(user_purchases.revenue, 0), 2) as revenue_display,
        latest_users.user_id is null as is_unknown_user,
        user_purchases.first_ordered_at,
        user_purchases.last_ordered_at
    from all_user_ids
    cross join sources
    left join latest_users
        on
            all_user_ids.user_id = latest_users.user_id
            and latest_users.recency_rank = 1
    left join user_purchases
        on
            sources.source = user_purchases.source
            and all_user_ids.user_id = user_purchases.user_id
)

select * from final
