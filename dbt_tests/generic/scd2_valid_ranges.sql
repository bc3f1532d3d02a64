{#-
    SCD2 invariants for a versioned model: per entity, valid_from < valid_to, versions don't
    overlap (each version ends at or before the next one starts), version numbers run 1..n in
    valid_from order, and at most one version is open (valid_to null) - the last one.
    `where` excludes rows such as the unknown member.
-#}
{% test scd2_valid_ranges(model, entity_id, where="true") %}

with

versions as (
    select
        {{ entity_id }} as entity_id,
        version_number,
        valid_from,
        valid_to,
        row_number() over (partition by {{ entity_id }} order by valid_from) as expected_version_number,
        lead(valid_from) over (partition by {{ entity_id }} order by valid_from) as next_valid_from
    from {{ model }}
    where {{ where }}
),

violations as (
    select
        entity_id,
        version_number,
        valid_from,
        valid_to,
        case
            when valid_to is not null and valid_to <= valid_from then 'empty or inverted range'
            when next_valid_from is not null and valid_to is null then 'open version is not the last'
            when next_valid_from is not null and valid_to > next_valid_from then 'overlaps the next version'
            when version_number <> expected_version_number then 'version numbers out of order'
        end as violation
    from versions
)

select * from violations
where violation is not null

{% endtest %}
