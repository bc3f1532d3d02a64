/**
 * The partition's row in raw.consumer_offsets, the source of truth of exactly-once landing
 * (docs/decisions/0040): locked at the start of every batch transaction, stored with its end.
 * Statements are built from escaped literals so each is one simple-protocol round trip, and
 * the store can share a round trip with COMMIT.
 */
import type { PoolClient } from "../shared/mod.ts";

/** A partition's key in raw.consumer_offsets, as escaped SQL literals. */
export interface OffsetKey {
  group: string;
  topic: string;
  partition: number;
}

/** Escapes the target's group and topic for `lockOffset` and `storeOffsetSql`. */
export function offsetKey(
  client: PoolClient,
  target: { group: string; topic: string; partition: number },
): OffsetKey {
  return {
    group: client.escapeLiteral(target.group),
    topic: client.escapeLiteral(target.topic),
    partition: Math.trunc(target.partition),
  };
}

/**
 * BEGIN and lock the partition's offset row (creating it at `firstOffset` when new); returns
 * the stored next offset.
 */
export async function lockOffset(
  client: PoolClient,
  key: OffsetKey,
  firstOffset: number,
): Promise<number> {
  const select = `select next_offset from raw.consumer_offsets
     where consumer_group = ${key.group} and topic = ${key.topic}
       and kafka_partition = ${key.partition}
     for update`;
  const results = await client.query(`begin; ${select}`) as unknown as Array<
    { rows: Array<{ next_offset: string }> }
  >;
  let row = results[1]?.rows[0];
  if (row === undefined) {
    // A concurrent first batch blocks on this insert until the other transaction ends.
    await client.query(
      `insert into raw.consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
       values (${key.group}, ${key.topic}, ${key.partition}, ${firstOffset})
       on conflict do nothing`,
    );
    row = (await client.query<{ next_offset: string }>(select)).rows[0];
  }
  if (row === undefined) {
    throw new Error(`Offset row of ${key.topic}/${key.partition} vanished`);
  }
  return Number(row.next_offset);
}

/** The statement that stores the partition's next offset (to run before COMMIT). */
export function storeOffsetSql(key: OffsetKey, nextOffset: number): string {
  return `insert into raw.consumer_offsets
        (consumer_group, topic, kafka_partition, next_offset)
    values (${key.group}, ${key.topic}, ${key.partition}, ${nextOffset})
    on conflict (consumer_group, topic, kafka_partition)
    do update set next_offset = excluded.next_offset, updated_at = now()`;
}

/**
 * The error when PostgreSQL's stored next offset lies beyond the partition's log end (a topic
 * re-created, its offsets restarted): seeking there never returns a message, so the consumer
 * must not loop on it. Undefined while the stored offset is within the log.
 */
export function beyondLogEnd(
  target: { group: string; topic: string; partition: number },
  storedOffset: number,
  logEnd: number,
): Error | undefined {
  if (!(storedOffset > logEnd)) return undefined;
  return new Error(
    `Stored offset ${storedOffset} of ${target.topic}/${target.partition} (group ` +
      `${target.group}) is beyond the log end ${logEnd}: the topic was re-created or truncated; ` +
      `reset its rows in raw.consumer_offsets to consume it again`,
  );
}
