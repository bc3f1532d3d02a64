{{
    config(
        materialized="incremental",
        incremental_strategy="merge",
        unique_key="user_key",
        on_schema_change="fail",
        pre_hook="{{ reset_on_backfill(ref('stg_audit__extract_runs')) }}",
        indexes=[
            {"columns": ["user_key"], "unique": true},
            {"columns": ["user_id", "lookup_from"]},
            {"columns": ["first_load_id"]},
            {"columns": ["extracted_through"]},
        ],
    )
}}
{%- set bounds = watermark_bounds(ref('stg_audit__extract_runs')) %}

-- SCD type 2 history of users, one row per user version, derived incrementally from the raw
-- snapshot history by the macro scd2_history, which says how (docs/decisions/0031).
-- Email and phone stop here (docs/decisions/0032): only the email's domain and whether a phone
-- is on file continue downstream; the payload hash still sees them, so changing either makes a
-- new version.
with

-- The snapshot history to derive versions from: hashes only (narrow).
user_snapshots as (
    select
        user_id,
        load_id,
        payload_hash,
        interval_start,
        extracted_at
    from {{ ref('stg_fakestore__users') }}
),

-- Attributes, looked up for each version's first interval only (see `described`).
stg_users as (
    select
        user_id,
        username,
        first_name,
        last_name,
        city,
        zipcode,
        geolocation_lat,
        geolocation_long,
        lower(split_part(email, '@', 2)) as email_domain,
        latitude,
        longitude,
        coalesce(phone, '') <> '' as has_phone,
        interval_start
    from {{ ref('stg_fakestore__users') }}
),

stg_extract_runs as (
    select
        load_id,
        is_complete_load,
        interval_start,
        interval_end,
        finished_at
    from {{ ref('stg_audit__extract_runs') }}
),

-- Bookkeeping for the reset rule and the models downstream (macro extract_watermarks).
watermarks as (
    {{ extract_watermarks(bounds) }}
),

versions as (
    {{ scd2_history('user_snapshots', 'user_id', 'stg_extract_runs', bounds) }}
),

-- A version's attributes are those of its first observation (same hash, same payload).
described as (
    select
        {{ surrogate_key(['versions.user_id', 'extract(epoch from versions.valid_from)']) }}
            as user_key,
        versions.user_id,
        versions.first_load_id,
        first_observation.username,
        first_observation.first_name,
        first_observation.last_name,
        first_observation.city,
        first_observation.zipcode,
        first_observation.geolocation_lat,
        first_observation.geolocation_long,
        first_observation.email_domain,
        versions.payload_hash,
        first_observation.latitude,
        first_observation.longitude,
        versions.version_number,
        first_observation.has_phone,
        versions.is_current,
        versions.valid_from,
        versions.valid_to,
        versions.lookup_from,
        versions.lookup_to,
        versions.last_seen_at,
        versions.last_extracted_at,
        watermarks.current_watermark as extracted_through
    from versions
    cross join watermarks
    -- One primary-key probe of raw per version ((interval_start, record_id)); `offset 0` keeps
    -- the planner from turning it into a scan of every snapshot, with its JSON, per run.
    cross join lateral (
        select
            stg_users.username,
            stg_users.first_name,
            stg_users.last_name,
            stg_users.city,
            stg_users.zipcode,
            stg_users.geolocation_lat,
            stg_users.geolocation_long,
            stg_users.email_domain,
            stg_users.latitude,
            stg_users.longitude,
            stg_users.has_phone
        from stg_users
        where
            stg_users.user_id = versions.user_id
            and stg_users.interval_start = versions.valid_from
        -- at most one row (the primary key): no order needed
        offset 0  -- noqa: AM09
    ) as first_observation
)

select * from described
