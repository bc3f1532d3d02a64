/**
 * The simulator's manifest: what the broker acknowledged, counted per kind, with the ids of the
 * valid distinct events in acknowledgement order; what it could not get acknowledged; how often
 * it resent and recreated its producer. Tests reconcile the tables against it, never against
 * consumer counters.
 */
import { MALFORMED_KINDS, type MalformedKind, type Outgoing } from "./chaos.ts";

/** What the broker acknowledged, and what it did not. */
export interface Manifest {
  manifest_version: 1;
  topic: string;
  seed: string;
  catalog: { source: string; users: number; products: number };
  chaos: { duplicate_pct: number; late_pct: number; malformed_pct: number };
  started_at: string;
  finished_at: string;
  acknowledged: {
    total: number;
    valid: number;
    late: number;
    duplicate: number;
    malformed: Record<MalformedKind, number>;
    by_error_class: { parse: number; schema: number; oversize: number };
  };
  /**
   * Messages made but never acknowledged (the run gave up on them): they may or may not be in
   * the topic. `event_ids`: the valid ones' ids (empty if ids are not kept).
   */
  unacknowledged: { total: number; valid: number; event_ids: string[] };
  /** Sends repeated after an error: their messages may be in the topic twice. */
  resent_batches: number;
  /** Producers replaced after a producer-state error (new producer id, sequences from 0). */
  producers_recreated: number;
  /** The longest wait between two acknowledgements (or from the start to the first one). */
  longest_ack_gap_ms: number;
  orders: { started: number; paid: number; cancelled: number };
  /** Valid distinct events, in the order the broker acknowledged them (empty if not kept). */
  valid_event_ids: string[];
}

/** An empty manifest for a run. */
export function newManifest(
  init: Pick<Manifest, "topic" | "seed" | "catalog" | "chaos">,
): Manifest {
  const malformed = Object.fromEntries(
    Object.keys(MALFORMED_KINDS).map((kind) => [kind, 0]),
  ) as Record<MalformedKind, number>;
  const now = new Date().toISOString();
  return {
    manifest_version: 1,
    ...init,
    started_at: now,
    finished_at: now,
    acknowledged: {
      total: 0,
      valid: 0,
      late: 0,
      duplicate: 0,
      malformed,
      by_error_class: { parse: 0, schema: 0, oversize: 0 },
    },
    unacknowledged: { total: 0, valid: 0, event_ids: [] },
    resent_batches: 0,
    producers_recreated: 0,
    longest_ack_gap_ms: 0,
    orders: { started: 0, paid: 0, cancelled: 0 },
    valid_event_ids: [],
  };
}

/** Counts `messages` as acknowledged by the broker. */
export function countAcknowledged(
  manifest: Manifest,
  messages: readonly Outgoing[],
  keepIds: boolean,
): void {
  const counts = manifest.acknowledged;
  for (const message of messages) {
    counts.total++;
    if (message.kind === "valid") {
      counts.valid++;
      if (message.late) counts.late++;
      if (keepIds) manifest.valid_event_ids.push(message.eventId);
    } else if (message.kind === "duplicate") {
      counts.duplicate++;
    } else {
      counts.malformed[message.malformed]++;
      counts.by_error_class[MALFORMED_KINDS[message.malformed]]++;
    }
  }
}

/** Counts `messages` as given up: never acknowledged, maybe in the topic. */
export function countUnacknowledged(
  manifest: Manifest,
  messages: readonly Outgoing[],
  keepIds: boolean,
): void {
  const counts = manifest.unacknowledged;
  for (const message of messages) {
    counts.total++;
    if (message.kind === "valid") {
      counts.valid++;
      if (keepIds) counts.event_ids.push(message.eventId);
    }
  }
}
