-- Passwords never reach the warehouse: the extractor drops `password` before landing a user
-- (and before recording a rejected one). Returns every raw row that still carries one.
with

raw_users as (
    select
        'raw.fakestore_users' as found_in,
        cast(record_id as text) as record_key
    from {{ source('fakestore', 'users') }}
    where payload ? 'password'
),

rejected_users as (
    select
        'audit.extract_rejects' as found_in,
        record_key
    from {{ source('audit', 'extract_rejects') }}
    where payload ? 'password' or payload -> 'user' ? 'password'
)

select * from raw_users
union all
select * from rejected_users
