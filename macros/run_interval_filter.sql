{#-
    The row filter of a run: `time_column` within the run's data interval, half-open
    [interval_start, interval_end), when the vars interval_start / interval_end are set (the
    batch DAG passes them), else `true` (a full run: make transform, full refresh, the quality
    DAG). The one definition of "this run's rows": data tests are scoped with it through
    get_where_subquery, singular tests call it (docs/decisions/0038).
-#}
{% macro run_interval_filter(time_column) -%}
    {%- if var("interval_start") is not none and var("interval_end") is not none -%}
        ({{ time_column }} >= cast('{{ var("interval_start") }}' as timestamptz)
        and {{ time_column }} < cast('{{ var("interval_end") }}' as timestamptz))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
