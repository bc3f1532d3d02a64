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
-#}
{% macro reset_on_backfill(extract_runs, upstreams=[]) -%}
    {%- if is_incremental() -%}
        do $$
        begin
            if exists (
                with

                watermarks as (
                    {{ extract_watermarks(extract_runs, upstreams) }}
                ),

                new_runs as (
                    {{ new_extract_runs(extract_runs, 'watermarks') }}
                ),

                already_read as (
                    select max(landed.interval_end) as read_through
                    from {{ extract_runs }} as landed
                    cross join watermarks
                    where
                        landed.is_complete_load
                        and landed.finished_at <= watermarks.previous_watermark
                )

                select 1
                from new_runs
                cross join already_read
                where new_runs.interval_start < already_read.read_through
            ) then
                truncate {{ this }};
            end if;
        end
        $$
    {%- else -%}
        select 1 as nothing_to_reset
    {%- endif -%}
{%- endmacro %}
