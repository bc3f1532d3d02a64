{#-
    The extract-run watermarks of an incremental batch model (docs/decisions/0037). Every such
    model stores `extracted_through` on each row it writes: the finished_at of the newest
    succeeded extract run (audit.extract_runs) whose data it had read. Its watermark is the
    maximum; the runs that finished after it are the loads the model has not read yet.

    extract_watermarks renders a one-row select:
        previous_watermark  the model's watermark (-infinity on a first or full build, or when
                            the model is empty)
        current_watermark   how far this run may read: the newest succeeded run, for a model
                            reading raw (no upstreams); else the least of its upstream models'
                            watermarks, so a model never claims loads a model it reads has not
                            processed (a build that failed half-way leaves it behind, and the
                            next run catches up from its own watermark)
    extract_runs: the relation or CTE of stg_audit__extract_runs (load_id, interval_start,
                  interval_end, is_complete_load, finished_at)
    upstreams:    the incremental models this one reads, each with its own extracted_through

    new_extract_runs renders the succeeded runs between the two watermarks (load_id,
    interval_start, interval_end): what this run has to process. On a first build, a full
    refresh or after a reset (an empty model) that is every succeeded run.
-#}
{% macro extract_watermarks(extract_runs, upstreams=[]) -%}
    {%- set previous = "cast('-infinity' as timestamptz)" -%}
    {%- if is_incremental() -%}
        {%- set previous = "(select coalesce(max(processed.extracted_through), " ~ previous
            ~ ") from " ~ this ~ " as processed)" -%}
    {%- endif -%}
    {%- if upstreams | length == 0 -%}
        {%- set current = "(select max(landed.finished_at) from " ~ extract_runs
            ~ " as landed where landed.is_complete_load)" -%}
    {%- else -%}
        {%- set maxima = [] -%}
        {%- for upstream in upstreams -%}
            {%- do maxima.append("(select max(upstream_rows.extracted_through) from "
                ~ upstream ~ " as upstream_rows)") -%}
        {%- endfor -%}
        {%- set current = "least(" ~ maxima | join(", ") ~ ")" -%}
    {%- endif -%}
    select
        {{ previous }} as previous_watermark,
        {{ current }} as current_watermark
{%- endmacro %}

{% macro new_extract_runs(extract_runs, watermarks) -%}
    select
        landed.load_id,
        landed.interval_start,
        landed.interval_end
    from {{ extract_runs }} as landed
    cross join {{ watermarks }} as watermarks
    where
        landed.is_complete_load
        and landed.finished_at > watermarks.previous_watermark
        and landed.finished_at <= watermarks.current_watermark
{%- endmacro %}
