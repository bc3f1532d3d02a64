{#-
    dbt's contract check builds an empty select from the YAML column types and warns on any bare
    `numeric` ("unintended rounding"). That holds on warehouses where numeric means scale 0; in
    PostgreSQL an unconstrained numeric is exact at any scale, and it is the type we want for
    money (docs/decisions/0030). Same as dbt's default__get_empty_schema_sql, minus that warning.
-#}
{% macro postgres__get_empty_schema_sql(columns) %}
    {%- set col_err = [] -%}
    select
    {% for i in columns %}
        {%- set col = columns[i] -%}
        {%- if col['data_type'] is not defined -%}
            {%- do col_err.append(col['name']) -%}
        {%- endif -%}
        {%- set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] -%}
        {{ cast('null', col['data_type']) }} as {{ col_name }}{{ ", " if not loop.last }}
    {%- endfor -%}
    {%- if (col_err | length) > 0 -%}
        {{ exceptions.column_type_missing(column_names=col_err) }}
    {%- endif -%}
{% endmacro %}
