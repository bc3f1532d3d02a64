{{ config(materialized="view") }}

-- Each user's purchases over their whole life, both sources: one row per user id with at least
-- one paid sale in fct_sales, known to the history or not (join dim_users on user_id; a user
-- without a row here never bought). Kept apart from dim_users so the dimension carries no
-- measure of a fact (docs/decisions/0036). A view, like fct_sales (docs/decisions/0037): a table
-- would re-aggregate every sale of the whole history on every daily run, and a view also counts
-- stream sales merged since the last batch run, as the analysis views do.
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

lifetime as (
    select
        user_id,
        {{ sales_figures() }},
        min(sold_at) as first_ordered_at,
        max(sold_at) as last_ordered_at
    from fct_sales
    -- a sale without a user id has no user to count it for (the API always sends one)
    where user_id is not null
    group by user_id
)

select * from lifetime
