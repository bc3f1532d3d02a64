/**
 * `main.ts status [--json]`, the streaming status for `make status`: per partition of ORDER_EVENTS_TOPIC, the broker's end
 * offset, the next offset PostgreSQL holds for CONSUMER_GROUP (the truth: lag is counted from
 * it), the group's committed offset in Kafka (a hint), the lag and the group member that owns
 * it; then each member's partitions, landed, dead-letter and duplicate counts and the last
 * landed time. Exit 1 when Kafka or PostgreSQL is unreachable or a stored offset lies beyond
 * its partition's log end; a group the broker cannot describe (yet) is named, not fatal.
 *
 *   deno task stream:status [--json]
 */
import { logLevel } from "kafkajs";
import { z } from "zod";
import { createKafka, createPool, type Logger, parseConfig, pgEnv } from "../shared/mod.ts";
import {
  memberLines,
  type MemberPartitions,
  memberPartitions,
  ownerByPartition,
} from "./group_members.ts";

interface PartitionStatus {
  partition: number;
  end_offset: number;
  start_offset: number;
  landed_offset: number | null;
  kafka_committed: number | null;
  lag: number;
  /** The group member that owns the partition: "client id (host)". */
  owner: string | null;
  /** PostgreSQL's stored offset lies beyond the log end: the consumer stops on it. */
  beyond_log_end: boolean;
}

interface TableStatus {
  landed: number;
  last_landed_at: string | null;
  dead_letters: number;
  dead_letters_pending: Record<string, number>;
  dead_letters_replayed: number;
  duplicates: number;
}

/** The group as the broker describes it, or why it could not be read. */
type GroupView = { state: string; members: MemberPartitions[] } | { error: string };

async function kafkaStatus(
  logger: Logger,
  brokers: string,
  topic: string,
  group: string,
): Promise<{
  partitions: Array<Omit<PartitionStatus, "landed_offset" | "lag" | "beyond_log_end" | "owner">>;
  group: GroupView;
}> {
  const admin = (await createKafka(brokers, {
    clientId: "stream-status",
    logger,
    level: logLevel.NOTHING,
    retry: { retries: 1 },
  })).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    let committed: Awaited<ReturnType<typeof admin.fetchOffsets>>[number] | undefined;
    let view: GroupView;
    try {
      // The group's coordinator may still move (a node down, __consumer_offsets just created).
      [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const described = (await admin.describeGroups([group])).groups[0];
      view = {
        state: described?.state ?? "Unknown",
        members: memberPartitions(described?.members ?? [], topic),
      };
    } catch (error) {
      view = { error: (error as Error).message };
    }
    const partitions = ends.map((end) => {
      const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset;
      return {
        partition: end.partition,
        end_offset: Number(end.high),
        start_offset: Number(end.low),
        kafka_committed: offset === undefined || Number(offset) < 0 ? null : Number(offset),
      };
    }).sort((a, b) => a.partition - b.partition);
    return { partitions, group: view };
  } finally {
    await admin.disconnect();
  }
}

/** Prints the status (a table, or one JSON line with `--json`); exit code 1 when unreachable. */
export async function status(logger: Logger, args: readonly string[]): Promise<number> {
  const config = parseConfig(z.object({
    ...pgEnv,
    KAFKA_BROKERS: z.string().min(1).default("127.0.0.1:9092"),
    ORDER_EVENTS_TOPIC: z.string().min(1).default("order_events"),
    CONSUMER_GROUP: z.string().min(1).default("order-events-loader"),
  }));
  const asJson = args.includes("--json");
  const topic = config.ORDER_EVENTS_TOPIC;
  const group = config.CONSUMER_GROUP;
  const problems: string[] = [];

  const pool = createPool(config, { applicationName: "stream-status", max: 1 });
  let stored = new Map<number, number>();
  let tables: TableStatus | null = null;
  try {
    const offsets = await pool.query<{ kafka_partition: number; next_offset: string }>(
      `select kafka_partition, next_offset from raw.consumer_offsets
       where consumer_group = $1 and topic = $2`,
      [group, topic],
    );
    stored = new Map(offsets.rows.map((row) => [row.kafka_partition, Number(row.next_offset)]));
    const { rows: [row] } = await pool.query(
      `select
         (select count(*) from raw.order_events where topic = $1)::bigint as landed,
         (select max(landed_at) from raw.order_events where topic = $1) as last_landed_at,
         (select count(*) from raw.order_events_duplicates where topic = $1)::bigint as duplicates,
         (select count(*) from raw.order_events_dead_letters where topic = $1)::bigint
           as dead_letters,
         (select count(*) from raw.order_events_dead_letters
          where topic = $1 and replayed_at is not null)::bigint as dead_letters_replayed,
         (select coalesce(jsonb_object_agg(error_class, n), '{}') from (
            select error_class, count(*) as n from raw.order_events_dead_letters
            where topic = $1 and replayed_at is null group by error_class) as pending)
           as dead_letters_pending`,
      [topic],
    );
    tables = {
      landed: Number(row.landed),
      last_landed_at: row.last_landed_at ? (row.last_landed_at as Date).toISOString() : null,
      dead_letters: Number(row.dead_letters),
      dead_letters_pending: row.dead_letters_pending as Record<string, number>,
      dead_letters_replayed: Number(row.dead_letters_replayed),
      duplicates: Number(row.duplicates),
    };
  } catch (error) {
    problems.push(
      `PostgreSQL ${config.PGHOST}:${config.PGPORT}/${config.PGDATABASE}: ${
        (error as Error).message
      }`,
    );
  } finally {
    await pool.end().catch(() => {});
  }
  // Kafka after PostgreSQL: an end offset read later is never below the landed one.
  const kafka = await kafkaStatus(logger, config.KAFKA_BROKERS, topic, group).catch((error) => {
    problems.push(`Kafka at ${config.KAFKA_BROKERS}: ${error.message}`);
    return null;
  });

  const view: GroupView = kafka?.group ?? { error: "Kafka unreachable" };
  const owners = "members" in view ? ownerByPartition(view.members) : new Map<number, string>();
  const partitions: PartitionStatus[] = (kafka?.partitions ?? []).map((p) => {
    const landed = stored.get(p.partition) ?? null;
    return {
      ...p,
      owner: owners.get(p.partition) ?? null,
      landed_offset: landed,
      lag: Math.max(0, p.end_offset - Math.max(landed ?? 0, p.start_offset)),
      beyond_log_end: landed !== null && landed > p.end_offset,
    };
  });
  const beyond: string[] = [];
  for (const p of partitions.filter((p) => p.beyond_log_end)) {
    beyond.push(
      `PostgreSQL's stored offset ${p.landed_offset} of ${topic}/${p.partition} is beyond ` +
        `the log end ${p.end_offset}`,
    );
  }
  const totalLag = partitions.reduce((sum, p) => sum + p.lag, 0);

  if (asJson) {
    console.log(
      JSON.stringify({
        topic,
        group,
        partitions,
        total_lag: totalLag,
        group_state: "state" in view ? view.state : null,
        members: "members" in view ? view.members : null,
        group_error: "error" in view && kafka ? view.error : null,
        tables,
        problems: [...problems, ...beyond],
      }),
    );
  } else {
    const lines = [`stream ${topic} -> PostgreSQL (consumer group ${group})`];
    if (kafka) {
      lines.push("  partition   end_offset  landed(pg)  committed(kafka)      lag  owner");
      for (const p of partitions) {
        lines.push(
          `  ${String(p.partition).padStart(9)} ${String(p.end_offset).padStart(12)} ${
            String(p.landed_offset ?? "-").padStart(11)
          } ${String(p.kafka_committed ?? "-").padStart(17)} ${String(p.lag).padStart(8)}  ${
            p.owner ?? "-"
          }`,
        );
      }
      lines.push(`  total lag: ${totalLag}`);
      if ("members" in view) {
        lines.push(...memberLines(group, view.state, view.members).map((line) => `  ${line}`));
      } else {
        lines.push(`  group ${group}: not described (${view.error})`);
      }
    }
    if (tables) {
      const ago = tables.last_landed_at
        ? ` (${Math.round((Date.now() - Date.parse(tables.last_landed_at)) / 1000)} s ago)`
        : "";
      const pending = Object.entries(tables.dead_letters_pending).map(([k, n]) => `${k} ${n}`);
      lines.push(
        `  landed events: ${tables.landed}, last landed: ${tables.last_landed_at ?? "never"}${ago}`,
        `  dead letters: ${tables.dead_letters} (pending: ${pending.join(", ") || "none"}; ` +
          `replayed: ${tables.dead_letters_replayed})`,
        `  duplicates dropped: ${tables.duplicates}`,
      );
    }
    for (const line of beyond) lines.push(`  BEYOND LOG END ${line}`);
    for (const problem of problems) lines.push(`  UNREACHABLE ${problem}`);
    console.log(lines.join("\n"));
  }
  return problems.length + beyond.length > 0 ? 1 : 0;
}
