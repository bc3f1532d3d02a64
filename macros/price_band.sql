{#-
    The price band of a product version (dim_products.price_band). Bounds are project vars
    (lower bound inclusive), so changing a band is a one-line change plus a rebuild.
-#}
{% macro price_band(price_expression) -%}
    case
        when {{ price_expression }} is null then 'unknown'
        when {{ price_expression }} >= {{ var("price_band_luxury_from") }} then 'luxury'
        when {{ price_expression }} >= {{ var("price_band_premium_from") }} then 'premium'
        when {{ price_expression }} >= {{ var("price_band_mid_from") }} then 'mid-range'
        else 'budget'
    end
{%- endmacro %}
