-- Every landed product and user observation falls in a version of its entity with the same
-- payload hash: valid_from <= interval_start < valid_to (or open). With scd2_valid_ranges (no
-- overlaps), exactly one. Checks the SCD2 derivation, incremental or not, against raw: a daily
-- run the observations of its interval (run_interval_filter), a full run all of them.
with

stg_products as (
    select
        product_id,
        payload_hash,
        interval_start
    from {{ ref('stg_fakestore__products') }}
    where {{ run_interval_filter('interval_start') }}
),

products_versioned as (
    select
        product_id,
        payload_hash,
        valid_from,
        valid_to
    from {{ ref('int_products_versioned') }}
),

stg_users as (
    select
        user_id,
        payload_hash,
        interval_start
    from {{ ref('stg_fakestore__users') }}
    where {{ run_interval_filter('interval_start') }}
),

users_versioned as (
    select
        user_id,
        payload_hash,
        valid_from,
        valid_to
    from {{ ref('int_users_versioned') }}
),

unversioned_products as (
    select
        'product' as entity,
        stg_products.product_id as entity_id,
        stg_products.interval_start
    from stg_products
    where not exists (
        select 1
        from products_versioned
        where
            stg_products.product_id = products_versioned.product_id
            and stg_products.payload_hash = products_versioned.payload_hash
            and stg_products.interval_start >= products_versioned.valid_from
            and stg_products.interval_start
            < coalesce(products_versioned.valid_to, cast('infinity' as timestamptz))
    )
),

unversioned_users as (
    select
        'user' as entity,
        stg_users.user_id as entity_id,
        stg_users.interval_start
    from stg_users
    where not exists (
        select 1
        from users_versioned
        where
            stg_users.user_id = users_versioned.user_id
            and stg_users.payload_hash = users_versioned.payload_hash
            and stg_users.interval_start >= users_versioned.valid_from
            and stg_users.interval_start
            < coalesce(users_versioned.valid_to, cast('infinity' as timestamptz))
    )
)

select * from unversioned_products
union all
select * from unversioned_users
