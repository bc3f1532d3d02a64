{#-
    The calendar day of a timestamptz in UTC, and its dim_date key (yyyymmdd as an integer).
    Always through UTC: a bare `::date` would follow the session's time zone.
-#}
{% macro utc_date(timestamp_expression) -%}
    cast(({{ timestamp_expression }} at time zone 'UTC') as date)
{%- endmacro %}

{% macro date_key(date_expression) -%}
    cast(to_char({{ date_expression }}, 'YYYYMMDD') as integer)
{%- endmacro %}
