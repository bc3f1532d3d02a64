-- Secrets never reach the warehouse: the extractor drops every secret-looking key (the pattern
-- of SECRET_KEY_PATTERN in workers/extract/http_client.ts) at any depth before landing a record
-- and before recording a rejected one. Returns every raw or reject row that still carries one
-- (each user payload is stored once, in raw.fakestore_user_payloads: docs/decisions/0027).
{%- set secret_key_path -%}
    '$.** ? (@.type() == "object").keyvalue() ? (@.key like_regex "passw(or)?d|pwd|passphrase|secret|token|hash" flag "i")'
{%- endset %}

with

raw_users as (
    select
        'raw.fakestore_user_payloads' as found_in,
        cast(record_id as text) as record_key
    from {{ source('fakestore', 'user_payloads') }}
    where jsonb_path_exists(payload, {{ secret_key_path }})
),

rejected_users as (
    select
        'audit.extract_rejects' as found_in,
        record_key
    from {{ source('audit', 'extract_rejects') }}
    where jsonb_path_exists(payload, {{ secret_key_path }})
)

select * from raw_users
union all
select * from rejected_users
