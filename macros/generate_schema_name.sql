{#-
    Models land in exactly the schema their folder names (staging, intermediate, marts,
    analysis): the foundation migration created those four and granted them to the transformer,
    which may not create schemas of its own. dbt's default would prefix the target schema
    (`staging_marts`). A model without a custom schema falls back to the profile's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
