{#-
    Pre-hook of the incremental SCD2 models (docs/decisions/0031). An incremental run only
    appends intervals after the last one it processed; history can only be extended, never
    rewritten, that way. When raw holds rows extracted since the last run for an interval at or
    before that point (a re-run of a day, a backfill), the history must be derived again from
    all of raw: this empties the model inside the run's transaction, and the model's select then
    reads every interval (its tail is empty). A daily run never pays for it.
-#}
{% macro scd2_reset_on_backfill(observations_relation) -%}
    {%- if is_incremental() -%}
        do $$
        begin
            if exists (
                select 1
                from {{ observations_relation }} as observed
                where
                    observed.extracted_at > (select max(last_extracted_at) from {{ this }})
                    and observed.interval_start <= (select max(last_seen_at) from {{ this }})
            ) then
                truncate {{ this }};
            end if;
        end
        $$
    {%- else -%}
        select 1 as nothing_to_reset
    {%- endif -%}
{%- endmacro %}
