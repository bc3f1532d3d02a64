/**
 * Fills raw.order_events fast with SQL (no Kafka): valid v1 events, four per order
 * (order_created, two item_added, order_paid), numbered by a position `i` that is unique across
 * fills. Event i landed at FILL_EPOCH + i seconds and occurred one second earlier, so a later
 * fill lands after everything before it and the fact's look-back window always holds the same
 * number of events.
 */
// @ts-types="@types/pg"
import pg from "pg";

/** The topic the filled rows carry (their Kafka position is (i mod 6, i div 6) on it). */
export const FILL_TOPIC = "bench_history_fill";

/** When filled event 0 landed. */
export const FILL_EPOCH = "2025-01-01T00:00:00Z";

// Order ids and event ids are gen_random_uuid() (version 4, as the contract wants): formatting
// md5 digests into UUIDs cost four times more than the rest of a row.
const FILL_SQL = `
with

orders as (
    select
        order_number,
        gen_random_uuid() as order_id
    from generate_series($1::bigint / 4, ($2::bigint - 1) / 4) as order_number
),

positions as (
    select
        orders.order_number * 4 + steps.step as i,
        steps.step,
        gen_random_uuid() as event_id,
        orders.order_id,
        1 + orders.order_number % 10 as user_id,
        timestamptz '${FILL_EPOCH}' + (orders.order_number * 4 + steps.step) * interval '1 second'
            as landed_at
    from orders
    cross join generate_series(0, 3) as steps (step)
    where orders.order_number * 4 + steps.step >= $1 and orders.order_number * 4 + steps.step < $2
),

events as (
    -- The payload as JSON text cast once to jsonb: jsonb_build_object costs twice as much here.
    select
        positions.*,
        cast(
            '{"schema_version": 1, "event_id": "' || event_id || '", "order_id": "' || order_id
            || '", "user_id": ' || user_id || ', "occurred_at": "'
            || to_char((landed_at - interval '1 second') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            || '", ' || case step
                when 0 then '"event_type": "order_created", "channel": "'
                    || case when i % 8 = 0 then 'web' else 'mobile' end || '"}'
                when 3 then '"event_type": "order_paid", "total_amount": 42.5, "payment_method": "card"}'
                else '"event_type": "item_added", "product_id": ' || 1 + i % 20 || ', "quantity": '
                    || 1 + i % 3 || ', "unit_price": 10.25}'
            end
            as jsonb
        ) as payload
    from positions
)

insert into raw.order_events (
    event_id, payload, topic, kafka_partition, kafka_offset, message_key, kafka_timestamp, landed_at
)
select
    event_id,
    payload,
    '${FILL_TOPIC}',
    i % 6,
    i / 6,
    cast(order_id as text),
    landed_at - interval '500 milliseconds',
    landed_at
from events`;

/** Inserts filled events [from, to) into raw.order_events; returns how long it took, in ms. */
export async function fillOrderEvents(
  client: pg.Client,
  from: number,
  to: number,
): Promise<number> {
  const started = performance.now();
  // One statement per million rows: progress in the log, and no single giant transaction.
  for (let start = from; start < to; start += 1_000_000) {
    await client.query(FILL_SQL, [start, Math.min(to, start + 1_000_000)]);
  }
  return performance.now() - started;
}
