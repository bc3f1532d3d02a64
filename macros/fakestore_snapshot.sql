{#
    The rows of a Fake Store snapshot entity in the shape they were landed: one per record per
    extracted interval, the manifest row (`source('fakestore', entity)`) joined to its payload,
    which raw stores once per (record_id, payload_hash), and to its load's landing envelope
    (raw.fakestore_responses, one row per response) (docs/decisions/0027). One
    definition for the products and users staging models.
#}
{% macro fakestore_snapshot(entity, payloads) %}
    select
        responses.load_id,
        manifest.record_id,
        payloads.payload,
        payloads.payload_hash,
        responses.endpoint,
        responses.request_url,
        responses.http_status,
        manifest.interval_start,
        responses.interval_end,
        responses.extracted_at
    from {{ source('fakestore', entity) }} as manifest
    inner join {{ source('fakestore', payloads) }} as payloads
        on manifest.payload_id = payloads.payload_id
    -- the response the manifest row names: an earlier run of the interval keeps its envelope
    -- row, but no manifest row names it any more
    inner join {{ source('fakestore', 'responses') }} as responses
        on manifest.response_id = responses.response_id
{% endmacro %}
