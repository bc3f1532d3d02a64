{#-
    Post-hook for tables: refresh the planner's statistics right after a build, so the first
    analyst query after a rebuild isn't planned on an empty-table estimate (autovacuum's
    analyze comes later). Views have no statistics, so they get a no-op.
-#}
{% macro analyze_relation() -%}
    {%- if model.config.materialized in ["table", "incremental"] -%}
        analyze {{ this }}
    {%- else -%}
        select 1 as no_statistics_for_views
    {%- endif -%}
{%- endmacro %}
