{#- Fails for every combination of `combination_of_columns` that occurs more than once (no dbt
    packages here: the hub is unreachable, so this small test is ours). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
