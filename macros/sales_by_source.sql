{#-
    The analysis views give every figure per sales source (fct_sales.source: batch, stream) and
    for all sources together (source 'all'). One aggregate does both: group by grouping sets,
    one set per source and one over every source, labelled 'all'.

        select {{ sales_source() }} as source, product_id, sum(revenue) as revenue
        from fct_sales
        {{ group_by_sales_source(['product_id']) }}

    sales_figures: the figures every analysis view (and fct_user_lifetime) reports of a group
                   of fct_sales rows: distinct orders (order ids are distinct across sources:
                   cart ids and stream uuids), units, and revenue (0, not null, when no line has
                   a price)
    sales_source: the source of a row of such an aggregate ('all' for the set without source)
    group_by_sales_source: the group by clause; columns: the other grouping columns
    sales_sources: every source an analysis view reports, as a from-clause item with a `source`
                   column (to list a row per source even where a source sold nothing)
-#}
{% macro sales_figures() -%}
    count(distinct order_id) as order_count,
    sum(quantity) as item_count,
    coalesce(sum(revenue), 0) as revenue
{%- endmacro %}

{% macro sales_source() -%}
    case when grouping(source) = 1 then 'all' else source end
{%- endmacro %}

{% macro group_by_sales_source(columns) -%}
    group by grouping sets ((source, {{ columns | join(', ') }}), ({{ columns | join(', ') }}))
{%- endmacro %}

{% macro sales_sources() -%}
    (values ('batch'), ('stream'), ('all')) as source_names (source)
{%- endmacro %}
