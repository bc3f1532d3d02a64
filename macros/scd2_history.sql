{#-
    The incremental SCD type 2 history of one entity (docs/decisions/0031), shared by
    int_products_versioned and int_users_versioned. Renders a select with one row per version
    that this run (re)computes:
        <entity_id>, version_number, payload_hash, first_load_id, is_current, valid_from,
        valid_to, lookup_from, lookup_to, last_seen_at, last_extracted_at

    snapshots: a CTE with one row per entity per extracted interval
               (<entity_id>, load_id, payload_hash, interval_start, extracted_at), every interval
    entity_id: the entity's id column
    extract_runs: a CTE with one row per extract run (interval_start, is_complete_load); an
                  interval with a complete load is a full snapshot the history can trust
    bounds: the model's watermark_bounds (a reset due, literals or not)

    Incremental: a run reads only the intervals after the last one processed, plus each entity's
    last version that can still change (open, or closed but seen again); version numbers continue
    the existing history, and the model merges the rows on its surrogate key. A full build reads
    every interval. A re-run or backfill of an older interval resets the model first (its
    pre-hook reset_on_backfill, decision 0037), so it is derived from all of raw again: history is never
    patched by hand. The model adds the version's attributes and its surrogate key.
-#}
{% macro scd2_history(snapshots, entity_id, extract_runs, bounds) -%}
    {%- set last_seen_through = processed_maximum('last_seen_at', bounds.reset, bounds.literal) -%}
    with

    complete_intervals as (
        select distinct interval_start
        from {{ extract_runs }} as extract_runs
        where is_complete_load
    ),

    -- Hashes only (narrow): the intervals this run has not processed yet (a literal bound when
    -- executed: the manifest's partitions are pruned at plan time, decision 0039).
    new_snapshots as (
        select
            {{ entity_id }},
            load_id,
            payload_hash,
            interval_start,
            extracted_at
        from {{ snapshots }} as snapshots
        {% if is_incremental() %}
            -- LT02 off: sqlfluff's templater renders the bound with a line break
            where interval_start > {{ last_seen_through }}  -- noqa: LT02
        {% endif %}
    ),

    {% if is_incremental() %}
        -- Each entity's last version, where new intervals can still change it: the open ones,
        -- and the closed ones of entities seen again.
        ranked_versions as (
            select
                processed.{{ entity_id }},
                processed.payload_hash,
                processed.first_load_id,
                processed.version_number,
                processed.valid_from,
                processed.last_seen_at,
                processed.last_extracted_at,
                row_number() over (
                    partition by processed.{{ entity_id }} order by processed.valid_from desc
                ) as recency_rank
            from {{ this }} as processed
            where
                processed.valid_to is null
                or processed.{{ entity_id }} in (
                    select new_snapshots.{{ entity_id }} from new_snapshots
                )
        ),

        tail_versions as (
            select * from ranked_versions
            where recency_rank = 1
        ),
    {% endif %}

    -- One row per entity per interval; a tail version stands in as one row at its last interval
    -- that carries its first one.
    observations as (
        select
            {{ entity_id }},
            payload_hash,
            load_id,
            interval_start,
            extracted_at,
            interval_start as first_interval_start
        from new_snapshots
        {% if is_incremental() %}
            union all
            select
                {{ entity_id }},
                payload_hash,
                first_load_id as load_id,
                last_seen_at as interval_start,
                last_extracted_at as extracted_at,
                valid_from as first_interval_start
            from tail_versions
        {% endif %}
    ),

    versions as (
        {{ scd2_versions('observations', entity_id, 'complete_intervals') }}
    ),

    -- Version numbers continue the existing history.
    {% if is_incremental() %}
        version_offsets as (
            select
                {{ entity_id }},
                version_number - 1 as version_offset
            from tail_versions
        ),
    {% else %}
        version_offsets as (
            select
                cast(null as bigint) as {{ entity_id }},
                cast(0 as bigint) as version_offset
            where false
        ),
    {% endif %}

    numbered as (
        select
            versions.*,
            versions.version_number + coalesce(version_offsets.version_offset, 0)
                as history_version_number
        from versions
        left join version_offsets
            on versions.{{ entity_id }} = version_offsets.{{ entity_id }}
    )

    select
        {{ entity_id }},
        history_version_number as version_number,
        payload_hash,
        first_load_id,
        valid_to is null as is_current,
        valid_from,
        valid_to,
        -- Point-in-time lookups (fct_orders, fct_order_events): the first version also covers
        -- times before it was first seen, and a version covers a gap while the entity was
        -- missing, until the next version starts.
        case
            when history_version_number = 1 then cast('-infinity' as timestamptz)
            else valid_from
        end as lookup_from,
        coalesce(
            lead(valid_from) over (
                partition by {{ entity_id }} order by history_version_number
            ),
            cast('infinity' as timestamptz)
        ) as lookup_to,
        last_seen_at,
        last_extracted_at
    from numbered
{%- endmacro %}
