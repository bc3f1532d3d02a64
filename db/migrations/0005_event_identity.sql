-- Up Migration
-- Identity, not position (issue 11 item 6). An event is identified by its event_id; a Kafka
-- position (topic, partition, offset) is reused when a topic is re-created, so it cannot be
-- unique in raw.order_events: a new event at a reused position must land. The consumer tells a
-- re-read (same event_id at the same position: the same message) from a duplicate (same
-- event_id elsewhere). A duplicate is recorded once per event and position, so a re-read of a
-- duplicate adds nothing and a new duplicate at a reused position is still recorded. Grants are
-- unchanged (docs/operations.md's grant matrix).

alter table raw.order_events drop constraint order_events_position_key;
create index order_events_position_idx on raw.order_events (topic, kafka_partition, kafka_offset);

alter table raw.order_events_duplicates drop constraint order_events_duplicates_position_key;
alter table raw.order_events_duplicates add constraint order_events_duplicates_event_position_key
unique (event_id, topic, kafka_partition, kafka_offset);

-- Down Migration
alter table raw.order_events_duplicates drop constraint order_events_duplicates_event_position_key;
alter table raw.order_events_duplicates add constraint order_events_duplicates_position_key
unique (topic, kafka_partition, kafka_offset);

drop index raw.order_events_position_idx;
alter table raw.order_events add constraint order_events_position_key
unique (topic, kafka_partition, kafka_offset);
