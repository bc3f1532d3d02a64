{#-
    SCD type 2 from full-snapshot history (docs/decisions/0031). Renders a select with one row per
    version of an entity:
        <entity_id>, version_number, payload_hash, first_load_id, valid_from, valid_to

    observations: a relation/CTE with one row per entity per extracted interval
                  (<entity_id>, payload_hash, load_id, interval_start)
    complete_intervals: a relation/CTE with the interval_start of every complete load (an
                  interval with a succeeded extract run: a full snapshot we can trust)

    A version starts at the first interval whose payload hash differs from the entity's previous
    observation, or at the entity's reappearance after it was missing from a complete load. It
    ends (valid_to, exclusive) at the next version's start, or at the first complete load the
    entity is missing from. An entity absent from an incomplete load (a failed run) is unknown
    there, not deleted. valid_to is null for the open version.
-#}
{% macro scd2_versions(observations, entity_id, complete_intervals) -%}
    with

    interval_starts as (
        select interval_start from {{ observations }}
        union
        select interval_start from {{ complete_intervals }}
    ),

    -- For each interval: the next complete load after it (a small set: one row per interval).
    next_complete_loads as (
        select
            interval_starts.interval_start,
            min(later_complete.interval_start) as next_complete_start
        from interval_starts
        left join {{ complete_intervals }} as later_complete
            on later_complete.interval_start > interval_starts.interval_start
        group by interval_starts.interval_start
    ),

    sequenced as (
        select
            observations.{{ entity_id }},
            observations.payload_hash,
            observations.load_id,
            observations.interval_start,
            observations.extracted_at,
            observations.first_interval_start,
            next_complete_loads.next_complete_start,
            lag(observations.payload_hash) over entity_history as previous_payload_hash,
            lag(next_complete_loads.next_complete_start) over entity_history
                as previous_next_complete_start,
            lead(observations.interval_start) over entity_history as next_interval_start
        from {{ observations }} as observations
        inner join next_complete_loads
            on observations.interval_start = next_complete_loads.interval_start
        window entity_history as (
            partition by observations.{{ entity_id }}
            order by observations.interval_start
        )
    ),

    flagged as (
        select
            {{ entity_id }},
            payload_hash,
            load_id,
            interval_start,
            extracted_at,
            first_interval_start,
            coalesce(
                previous_payload_hash is null
                or previous_payload_hash <> payload_hash
                -- missing from a complete load since the previous observation: a reappearance
                or previous_next_complete_start < interval_start,
                false
            ) as starts_version,
            -- missing from the next complete load before being seen again: the version ends there
            case
                when next_complete_start < coalesce(next_interval_start, cast('infinity' as timestamptz))
                    then next_complete_start
            end as missing_from
        from sequenced
    ),

    numbered as (
        select
            {{ entity_id }},
            payload_hash,
            load_id,
            interval_start,
            extracted_at,
            first_interval_start,
            missing_from,
            sum(case when starts_version then 1 else 0 end) over (
                partition by {{ entity_id }}
                order by interval_start
                rows between unbounded preceding and current row
            ) as version_number
        from flagged
    ),

    versions as (
        select
            {{ entity_id }},
            version_number,
            min(payload_hash) as payload_hash,
            (array_agg(load_id order by interval_start))[1] as first_load_id,
            min(first_interval_start) as valid_from,
            max(interval_start) as last_seen_at,
            max(extracted_at) as last_extracted_at,
            -- only a version's last observation can carry missing_from
            max(missing_from) as missing_from
        from numbered
        group by {{ entity_id }}, version_number
    )

    select
        {{ entity_id }},
        version_number,
        payload_hash,
        first_load_id,
        valid_from,
        coalesce(
            missing_from,
            lead(valid_from) over (partition by {{ entity_id }} order by version_number)
        ) as valid_to,
        last_seen_at,
        last_extracted_at
    from versions
{%- endmacro %}
