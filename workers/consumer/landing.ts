/**
 * Lands one Kafka batch (one partition) in PostgreSQL, exactly once: in ONE transaction it
 * locks the partition's row in raw.consumer_offsets (offsets.ts), skips what is below the
 * stored offset, writes valid events (COPY straight into raw.order_events, copy_rows.ts; if an
 * event had landed before, again through a temporary stage with INSERT … ON CONFLICT DO
 * NOTHING, stage.ts), dropped duplicates and dead letters (rejects.ts), and stores the
 * partition's next offset (docs/decisions/0040, 0042).
 *
 * The row lock makes two consumers that both believe they own a partition (kafkajs has no
 * awaited rebalance hook) take turns; the second sees the first's offset and skips its rows.
 * A row PostgreSQL refuses (a data error) is isolated by splitting the write under savepoints
 * and dead-lettered, so one poison message never stalls its partition.
 */
import {
  isDataError,
  isQueryTimeout,
  type Logger,
  type Pool,
  type PoolClient,
  withClient,
} from "../shared/mod.ts";
import { copyDirect } from "./copy_rows.ts";
import { lockOffset, offsetKey, storeOffsetSql } from "./offsets.ts";
import {
  type BatchTarget,
  classify,
  type DeadLetter,
  type InboundMessage,
  type Plan,
  withRefused,
} from "./plan.ts";
import { insertDeadLetters, insertDuplicates } from "./rejects.ts";
import { ensureStage, landStagedAndCommit, writeSplit } from "./stage.ts";

export type { BatchTarget, InboundMessage } from "./plan.ts";

/** What happened to a batch. `behind`/`gap`: nothing written; the caller seeks. */
export type LandingResult =
  | {
    kind: "landed";
    nextOffset: number;
    landed: number;
    duplicates: number;
    deadLetters: number;
    skipped: number;
  }
  | { kind: "behind"; storedOffset: number }
  | { kind: "gap"; storedOffset: number };

/** An attempt rolled back because an event_id had landed already: retry through the stage. */
const UNIQUE_VIOLATION = Symbol("unique violation");
/** An attempt rolled back because PostgreSQL refused a row: retry with savepoints. */
const DATA_ERROR = Symbol("data error");

/** How an attempt writes the valid events (see `attempt`). */
type Mode = "direct" | "stage" | "split";

type AttemptOptions = { logger: Logger; acceptGapFrom?: number | undefined; mode: Mode };

/**
 * Lands `messages` (one partition, ascending offsets) in one transaction. The shared
 * `withClient` guards the connection: a failure after it was lost is a RetriableError (the
 * transaction died with it, nothing was committed), and a failed client is destroyed, so its
 * replacement creates the temporary stage again.
 */
export async function landBatch(
  pool: Pool,
  target: BatchTarget,
  messages: readonly InboundMessage[],
  options: { logger: Logger; acceptGapFrom?: number | undefined },
): Promise<LandingResult> {
  if (messages.length === 0) throw new RangeError("landBatch needs at least one message");
  return await withClient(pool, async (client) => {
    try {
      await ensureStage(client);
      // Most batches have no event that already landed: COPY them straight into the table.
      const direct = await attempt(client, target, messages, { ...options, mode: "direct" });
      if (direct === UNIQUE_VIOLATION) {
        const staged = await attempt(client, target, messages, { ...options, mode: "stage" });
        if (staged !== DATA_ERROR) return staged as LandingResult;
      } else if (direct !== DATA_ERROR) {
        return direct;
      }
      options.logger.warn("PostgreSQL refused a row: isolating it", { ...target });
      return await attempt(client, target, messages, {
        ...options,
        mode: "split",
      }) as LandingResult;
    } catch (error) {
      // Not after a query timeout: the rollback would wait for the same silent server, and
      // withClient destroys the client anyway (closing the session rolls back).
      if (!isQueryTimeout(error)) await client.query("rollback").catch(() => {});
      throw error;
    }
  }, { retriableWhenLost: "landing" });
}

/**
 * One transaction, in one of three modes:
 * - direct: COPY the valid events straight into raw.order_events. Three round trips: BEGIN
 *   with the offset lock, COPY, the offset with COMMIT. The unique index on event_id still
 *   guards: an event that landed before fails the COPY, and the attempt answers
 *   UNIQUE_VIOLATION after rolling back.
 * - stage: COPY into the temporary stage, then INSERT … ON CONFLICT DO NOTHING, recording the
 *   rows it skips as duplicates, in the same statement as the offset, with COMMIT.
 * - split: as stage, but under savepoints, halving the rows until those PostgreSQL refuses are
 *   isolated as dead letters.
 * A data error in direct or stage mode rolls back and answers DATA_ERROR.
 */
async function attempt(
  client: PoolClient,
  target: BatchTarget,
  messages: readonly InboundMessage[],
  options: AttemptOptions,
): Promise<LandingResult | typeof UNIQUE_VIOLATION | typeof DATA_ERROR> {
  const first = messages[0]!;
  const last = messages.at(-1)!;
  const key = offsetKey(client, target);
  const nextOffset = last.offset + 1;
  const stored = await lockOffset(client, key, first.offset);
  if (stored > last.offset) {
    await client.query("rollback");
    return { kind: "behind", storedOffset: stored };
  }
  if (stored < first.offset && options.acceptGapFrom !== stored) {
    await client.query("rollback");
    return { kind: "gap", storedOffset: stored };
  }
  if (stored < first.offset) {
    options.logger.warn("Accepting an offset gap Kafka confirmed after a seek", {
      ...target,
      from: stored,
      to: first.offset,
    });
  }
  const fresh = messages.filter((message) => message.offset >= stored);
  let plan = classify(fresh);
  const storeOffset = storeOffsetSql(key, nextOffset);
  let landed = 0;
  let dropped = 0;
  if (options.mode !== "split") {
    try {
      await writeRejects(client, target, plan);
      if (options.mode === "direct") {
        if (plan.valid.length > 0) await copyDirect(client, target, plan.valid);
        await client.query(`${storeOffset}; commit`);
        landed = plan.valid.length;
      } else {
        const literals = { topic: key.topic, partition: key.partition, storeOffset };
        ({ landed, dropped } = await landStagedAndCommit(client, plan.valid, literals));
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (options.mode === "direct" && code === "23505") {
        await client.query("rollback");
        return UNIQUE_VIOLATION;
      }
      if (!isDataError(error)) throw error;
      await client.query("rollback");
      return DATA_ERROR;
    }
  } else {
    const refused = new Map<string, DeadLetter>();
    ({ landed, dropped } = await writeSplit(client, target, plan.valid, refused));
    plan = withRefused(plan, refused);
    await writeRejects(client, target, plan);
    await client.query(`${storeOffset}; commit`);
  }
  return {
    kind: "landed",
    nextOffset,
    skipped: messages.length - fresh.length,
    landed,
    duplicates: dropped + plan.inBatchDuplicates.length,
    deadLetters: plan.deadLetters.length,
  };
}

/** Writes the plan's in-batch duplicates and dead letters (no round trip when there are none). */
async function writeRejects(client: PoolClient, target: BatchTarget, plan: Plan): Promise<void> {
  if (plan.inBatchDuplicates.length > 0) {
    await insertDuplicates(client, target, plan.inBatchDuplicates);
  }
  if (plan.deadLetters.length > 0) await insertDeadLetters(client, target, plan.deadLetters);
}
