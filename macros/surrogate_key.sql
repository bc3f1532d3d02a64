{#-
    A surrogate key: md5 over the given expressions cast to text, joined by '|', with a marker
    for nulls (so (1, null) and (null, 1) differ). Deterministic, so a rebuild from raw yields the
    same keys and facts built at different times keep pointing at the same dimension rows.
    Pass timestamps as `extract(epoch from ...)`: their text form depends on the session time zone.
-#}
{% macro surrogate_key(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(cast(" ~ expression ~ " as text), '_null_')") -%}
    {%- endfor -%}
    md5({{ parts | join(" || '|' || ") }})
{%- endmacro %}
