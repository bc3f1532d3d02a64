{#-
    Pre-hook of every incremental batch model (docs/decisions/0037). An incremental run only
    adds what loads after the model's watermark changed (macro extract_watermarks); that is
    correct while every new load is for an interval after all the model has read. When a new
    load is for an interval that starts before the end of the intervals already read (a re-run
    of a day, a backfill of a missed day, an overlapping interval), this empties the model
    inside the run's transaction; its select then sees no watermark and reads all of raw, so
    the model equals a full refresh. A daily run never pays for it: the check reads only the
    audit table and the watermarks (index-backed maxima).

    extract_runs: the relation of stg_audit__extract_runs
    upstreams:    as in extract_watermarks (a backfill counts once the upstream has read it)

    backfill_check renders the condition (a select that returns a row when the reset is due);
    backfill_pending evaluates it while the model compiles, so its bounds know the reset is
    coming (watermark_bounds).
-#}
{% macro reset_on_backfill(extract_runs, upstreams=[]) -%}
    {%- if is_incremental() -%}
        do $$
        begin
            if exists ({{ backfill_check(extract_runs, upstreams) }}) then
                truncate {{ this }};
            end if;
        end
        $$
    {%- else -%}
        select 1 as nothing_to_reset
    {%- endif -%}
{%- endmacro %}

{% macro backfill_pending(extract_runs, upstreams=[]) -%}
    {%- set found = run_query(
        "select exists (" ~ backfill_check(extract_runs, upstreams) ~ ")"
    ).columns[0].values()[0] -%}
    {{ return(found) }}
{%- endmacro %}

{% macro backfill_check(extract_runs, upstreams=[]) -%}
    {%- set bounds = watermark_bounds(extract_runs, upstreams, literal=false) -%}
    with

    new_runs as (
        {{ new_extract_runs(extract_runs, bounds) }}
    ),

    already_read as (
        select max(landed.interval_end) as read_through
        from {{ extract_runs }} as landed
        where
            landed.is_complete_load
            and landed.finished_at <= {{ bounds.previous }}
    )

    select 1
    from new_runs
    cross join already_read
    where new_runs.interval_start < already_read.read_through
{%- endmacro %}
