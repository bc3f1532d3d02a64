{#
    The rows of a Fake Store snapshot entity in the shape they were landed: one per record per
    extracted interval, the manifest row (`source('fakestore', entity)`) joined to its payload,
    which raw stores once per (record_id, payload_hash) (docs/decisions/0027). One definition
    for the products and users staging models.
#}
{% macro fakestore_snapshot(entity, payloads) %}
    select
        manifest.load_id,
        manifest.record_id,
        payloads.payload,
        manifest.payload_hash,
        manifest.endpoint,
        manifest.request_url,
        manifest.http_status,
        manifest.interval_start,
        manifest.interval_end,
        manifest.extracted_at
    from {{ source('fakestore', entity) }} as manifest
    inner join {{ source('fakestore', payloads) }} as payloads
        on
            manifest.record_id = payloads.record_id
            and manifest.payload_hash = payloads.payload_hash
{% endmacro %}
