{#-
    The point-in-time join condition of a fact to an SCD2 history (int_products_versioned,
    int_users_versioned): the version of the same entity whose lookup range [lookup_from,
    lookup_to) holds the fact's time. The lookup ranges extend an entity's first version back to
    -infinity and cover the gaps while it was missing, so a known entity always finds exactly one
    version; an unknown one finds none (the fact maps it to the unknown member).

    versions: the history CTE's name; fact: the fact CTE's name
    entity_id: the id column, named the same in both; at: the fact's time column
-#}
{% macro version_valid_at(versions, fact, entity_id, at) -%}
    {{ fact }}.{{ entity_id }} = {{ versions }}.{{ entity_id }}
    and {{ fact }}.{{ at }} >= {{ versions }}.lookup_from
    and {{ fact }}.{{ at }} < {{ versions }}.lookup_to
{%- endmacro %}
