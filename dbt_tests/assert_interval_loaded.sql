-- When a run names its data interval (vars interval_start / interval_end, as Airflow passes
-- them), a succeeded extract run must cover it: otherwise the build would publish marts that
-- silently miss the interval. Without the vars (a manual build) there is nothing to check.
-- depends_on: {{ ref('stg_audit__extract_runs') }}
{% if var("interval_start") is not none and var("interval_end") is not none %}

    with

    stg_extract_runs as (
        select
            interval_start,
            interval_end,
            is_complete_load
        from {{ ref('stg_audit__extract_runs') }}
    ),

    requested as (
        select
            cast('{{ var("interval_start") }}' as timestamptz) as interval_start,
            cast('{{ var("interval_end") }}' as timestamptz) as interval_end
    )

    select
        requested.interval_start,
        requested.interval_end
    from requested
    where not exists (
        select 1
        from stg_extract_runs
        where
            stg_extract_runs.is_complete_load
            and stg_extract_runs.interval_start <= requested.interval_start
            and stg_extract_runs.interval_end >= requested.interval_end
    )

{% else %}

    select
        null as interval_start,
        null as interval_end
    where false

{% endif %}
