with

-- One row per user per extracted interval, as landed (manifest joined to payload, envelope).
source_users as (
    {{ fakestore_snapshot('users', 'user_payloads') }}
),

renamed as (
    select
        -- ids
        load_id,
        record_id as user_id,
        -- strings: exactly as sent (lat/long, zipcode and phone are strings in the API)
        payload ->> 'username' as username,
        payload ->> 'email' as email,
        payload ->> 'phone' as phone,
        payload -> 'name' ->> 'firstname' as first_name,
        payload -> 'name' ->> 'lastname' as last_name,
        payload -> 'address' ->> 'street' as street,
        payload -> 'address' ->> 'city' as city,
        payload -> 'address' ->> 'zipcode' as zipcode,
        payload -> 'address' -> 'geolocation' ->> 'lat' as geolocation_lat,
        payload -> 'address' -> 'geolocation' ->> 'long' as geolocation_long,
        payload_hash,
        endpoint,
        request_url,
        -- numerics
        cast(payload -> 'address' ->> 'number' as integer) as street_number,
        -- lat/long parsed beside the original strings; a malformed value parses to null
        case
            when payload -> 'address' -> 'geolocation' ->> 'lat' ~ '^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$'
                then cast(payload -> 'address' -> 'geolocation' ->> 'lat' as numeric)
        end as latitude,
        case
            when payload -> 'address' -> 'geolocation' ->> 'long' ~ '^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$'
                then cast(payload -> 'address' -> 'geolocation' ->> 'long' as numeric)
        end as longitude,
        cast(payload ->> '__v' as integer) as document_version,
        http_status,
        -- timestamps
        interval_start,
        interval_end,
        extracted_at
    from source_users
)

select * from renamed
