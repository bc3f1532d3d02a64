{#-
    The extract-run watermarks of an incremental batch model (docs/decisions/0037). Every such
    model stores `extracted_through` on each row it writes: the finished_at of the newest
    succeeded extract run (audit.extract_runs) whose data it had read. Its watermark is the
    maximum; the runs that finished after it are the loads the model has not read yet.

    watermark_bounds returns the bounds of a run, as SQL expressions (a dict):
        previous  the model's watermark (-infinity on a first or full build, when the model is
                  empty, or when its pre-hook reset_on_backfill is about to empty it)
        current   how far this run may read: the newest succeeded run, for a model reading raw
                  (no upstreams); else the least of its upstream models' watermarks, so a model
                  never claims loads a model it reads has not processed (a build that failed
                  half-way leaves it behind, and the next run catches up from its own watermark)
        reset     true when the pre-hook will empty the model (known only as literals, below)
        literal   whether the bounds are literals
    extract_runs: the relation stg_audit__extract_runs (load_id, interval_start, interval_end,
                  is_complete_load, finished_at)
    upstreams:    the incremental models this one reads, each with its own extracted_through
    literal:      false renders scalar subqueries (the pre-hook's check, unit tests)

    Literals (docs/decisions/0039): when dbt executes a model, each bound is queried while the
    model compiles (after its upstreams were built, before its pre-hook) and rendered as a
    timestamptz literal, so PostgreSQL plans the filters on them with real selectivities and
    prunes raw's monthly manifest partitions at plan time. A filter on a scalar subquery gets
    the planner's default third of the table whatever its value, which at a year of history
    turned a hashed semi-join into a re-scanned SubPlan. The pre-hook may still empty the model
    after it compiled: so a model whose reset is due gets -infinity, which is what its select
    would have found in the emptied table.

    extract_watermarks renders the bounds as a one-row select (previous_watermark,
    current_watermark); new_extract_runs renders the succeeded runs between them (load_id,
    interval_start, interval_end): what this run has to process. On a first build, a full
    refresh or after a reset that is every succeeded run.
-#}
{% macro watermark_bounds(extract_runs, upstreams=[], literal=true) -%}
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
    {%- set bounds = {
        "previous": processed_maximum("extracted_through", false),
        "current": current,
        "reset": false,
        "literal": false,
    } -%}
    {%- if literal and execute and model.resource_type == "model" -%}
        {%- set reset = is_incremental() and backfill_pending(extract_runs, upstreams) -%}
        {%- do bounds.update({"reset": reset}) -%}
        {%- do bounds.update({
            "previous": processed_maximum("extracted_through", bounds.reset, true),
            "current": timestamptz_literal(current),
            "literal": true,
        }) -%}
    {%- endif -%}
    {{ return(bounds) }}
{%- endmacro %}

{#- The newest value of a timestamptz column of the model already built ({{ this }}), -infinity
    when there is none (first or full build, empty model, or `reset` due); a literal if asked. -#}
{% macro processed_maximum(column, reset, literal=false) -%}
    {%- set maximum = "cast('-infinity' as timestamptz)" -%}
    {%- if is_incremental() and not reset -%}
        {%- set maximum = "(select coalesce(max(processed." ~ column ~ "), " ~ maximum ~ ") from "
            ~ this ~ " as processed)" -%}
        {%- if literal -%}
            {%- set maximum = timestamptz_literal(maximum) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(maximum) }}
{%- endmacro %}

{#- A timestamptz SQL expression evaluated now and rendered as a literal (null stays null). -#}
{% macro timestamptz_literal(expression) -%}
    {%- set value = run_query("select cast(" ~ expression ~ " as text)").columns[0].values()[0] -%}
    {{ return("cast(null as timestamptz)" if value is none
        else "cast('" ~ value ~ "' as timestamptz)") }}
{%- endmacro %}

{% macro extract_watermarks(bounds) -%}
    select
        {{ bounds.previous }} as previous_watermark,
        {{ bounds.current }} as current_watermark
{%- endmacro %}

{% macro new_extract_runs(extract_runs, bounds) -%}
    select
        landed.load_id,
        landed.interval_start,
        landed.interval_end
    from {{ extract_runs }} as landed
    where
        landed.is_complete_load
        and landed.finished_at > {{ bounds.previous }}
        and landed.finished_at <= {{ bounds.current }}
{%- endmacro %}
