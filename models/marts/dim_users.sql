{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="user_key",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(
            ref('stg_audit__extract_runs'), [ref('int_users_versioned')]
        ) }}",
        indexes=[
            {"columns": ["user_id", "valid_from"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs'), [
    ref('int_users_versioned'),
]) %}

-- User dimension, SCD type 2: one row per user version, plus the unknown member. No email or
-- phone (docs/decisions/0032). Purchase figures per user are in fct_user_lifetime.
with

watermarks as (
    {{ extract_watermarks(bounds) }}
),

-- The versions int_users_versioned (re)wrote since this model's watermark; on a full build
-- (or after a reset) every version.
users_versioned as (
    select * from {{ ref('int_users_versioned') }}
    {% if is_incremental() %}
        where extracted_through > {{ bounds.previous }}
    {% endif %}
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
        users_versioned.has_phone,
        false as is_unknown_member,
        users_versioned.is_current,
        users_versioned.valid_from,
        users_versioned.valid_to,
        users_versioned.extracted_through
    from users_versioned
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
        false as has_phone,
        true as is_unknown_member,
        true as is_current,
        cast('1900-01-01 00:00:00+00' as timestamptz) as valid_from,
        cast(null as timestamptz) as valid_to,
        watermarks.current_watermark as extracted_through
    from watermarks
),

unioned as (
    select * from known_users
    union all
    select * from unknown_member
)

select * from unioned
