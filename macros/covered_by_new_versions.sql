{#-
    The rows of a fact whose point-in-time version a new version now covers (docs/decisions/0037):
    the new version was first landed by one of the run's new extract runs (first_load_id), is of
    the row's entity, and starts (lookup_from) at or before the row's time. A first version's
    lookup_from is -infinity, so it covers every row of an entity that was unknown until now.
    Renders a select of the rows' key. Only new versions can move a row: a version's lookup range
    otherwise changes only when a later version starts, which is itself new.

    fact: the relation already built ({{ this }}); key: the column to return
    at: the fact's time column; versions: the history CTE (entity id, first_load_id, lookup_from)
    entity_id: the id column, named the same in both; new_runs: the CTE of new extract runs
-#}
{% macro covered_by_new_versions(fact, key, at, versions, entity_id, new_runs) -%}
    select already_built.{{ key }}
    from {{ fact }} as already_built
    inner join {{ versions }}
        on
            already_built.{{ entity_id }} = {{ versions }}.{{ entity_id }}
            and already_built.{{ at }} >= {{ versions }}.lookup_from
    where {{ versions }}.first_load_id in (select {{ new_runs }}.load_id from {{ new_runs }})
{%- endmacro %}
