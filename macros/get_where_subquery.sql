{#-
    Overrides dbt's get_where_subquery: how every generic data test reads the model it tests.
    Besides the test's own `where` config, a test reads only the run's rows when its model names
    its time column (`config: meta: interval_column: <column>` in the model's yml): a daily run
    tests the interval it built, a run without interval vars tests everything
    (run_interval_filter). Tests tagged `full_history` check whole-history properties and always
    read every row; the daily selector leaves them out (docs/decisions/0038).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get("where") -%}
    {%- if where -%}
        {%- do filters.append("(" ~ where ~ ")") -%}
    {%- endif -%}
    {%- set interval_column = tested_interval_column() -%}
    {%- if interval_column -%}
        {%- do filters.append(run_interval_filter(interval_column)) -%}
    {%- endif -%}
    {%- if filters -%}
        (select * from {{ relation }} where {{ filters | join(" and ") }}) as dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The time column of the model the current test is attached to, or none (not scoped). -#}
{% macro tested_interval_column() -%}
    {%- if not execute or "full_history" in (model.tags or []) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set attached = graph.nodes.get(model.attached_node or "") -%}
    {%- if attached is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((attached.config.meta or {}).get("interval_column")) }}
{%- endmacro %}
