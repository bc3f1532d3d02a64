/**
 * One extractor run for one interval: open products, users and carts; then, in one transaction,
 * stream each response element by element through validation, hashing and COPY (no response is
 * held whole); land all of it or nothing at all; keep the audit row and any rejects.
 *
 * The as-of day (the interval's last day) goes with every request as X-Fakestore-As-Of: our
 * server answers as of that day, so any past day can be re-extracted to the same rows; the live
 * API ignores it and answers with today's products and users (docs/decisions/0020).
 */
import { InvalidRecordError, type Logger, type Pool } from "../shared/mod.ts";
import {
  type ArrayResponse,
  BodyReadError,
  type HttpClient,
  UpstreamError,
} from "./http_client.ts";
import { asOfDate, cartDateParams, contains, type Interval } from "./interval.ts";
import {
  type Counts,
  failRun,
  type Landing,
  landRun,
  recordRejects,
  type RunIdentity,
  type RunSummary,
  startRun,
} from "./raw_store.ts";
import { lockRunInterval } from "./run_lock.ts";
import {
  ENTITIES,
  type Entity,
  RecordValidator,
  type RejectedRecord,
  type ValidRecord,
} from "./schemas.ts";

/** The header our server answers as of (and echoes back); the live API ignores it. */
export const AS_OF_HEADER = "X-Fakestore-As-Of";

/** A run that did not land; its audit row says why (unless `auditError` says that failed too). */
export class ExtractFailedError extends Error {
  override name = "ExtractFailedError";
  /** Why the failure could not be written to the audit tables, if it could not. */
  auditError?: unknown;
  constructor(message: string, readonly loadId: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** What a run needs from outside. */
export interface ExtractDeps {
  pool: Pool;
  /** Sends AS_OF_HEADER with every request (see `asOfHeaders`). */
  http: HttpClient;
  logger: Logger;
  now?: () => Date;
}

/** A landed run. */
export interface ExtractOutcome {
  loadId: string;
  asOfDate: string;
  counts: Counts;
  drift: RunSummary["drift"];
  asOfHonoured: boolean | null;
}

/** The headers every request of a run for `interval` carries. */
export function asOfHeaders(interval: Interval): Record<string, string> {
  return { [AS_OF_HEADER]: asOfDate(interval) };
}

function request(entity: Entity, interval: Interval) {
  const path = `/${entity}`;
  return entity === "carts"
    ? { path, searchParams: cartDateParams(interval) }
    : { path, searchParams: {} };
}

function firstLines(rejects: Array<RejectedRecord & { entity: Entity }>): string {
  const shown = rejects.slice(0, 3).map((r) => `${r.entity} ${r.recordKey}: ${r.reason}`);
  return shown.join("; ") + (rejects.length > 3 ? `; and ${rejects.length - 3} more` : "");
}

/** Extracts `interval` from the source into the raw tables; throws ExtractFailedError if not. */
export async function runExtract(
  deps: ExtractDeps,
  options: { interval: Interval; sourceBaseUrl: string },
): Promise<ExtractOutcome> {
  const now = deps.now ?? (() => new Date());
  const run: RunIdentity = {
    loadId: crypto.randomUUID(),
    interval: options.interval,
    asOfDate: asOfDate(options.interval),
    sourceBaseUrl: options.sourceBaseUrl,
    startedAt: now(),
  };
  const logger = deps.logger.child({ load_id: run.loadId });
  const counts: Counts = {};
  const drift: RunSummary["drift"] = {};
  let asOfHonoured: boolean | null = null;
  const summary = (): RunSummary => ({ counts, drift, asOfHonoured, finishedAt: now() });

  /**
   * Ends the run as failed. The failure itself is what is thrown: an error while writing it to
   * the audit tables is logged and attached (`auditError`), never thrown in its place.
   */
  const fail = async (
    message: string,
    cause?: unknown,
    rejects?: Array<RejectedRecord & { entity: Entity }>,
  ): Promise<never> => {
    const failure = new ExtractFailedError(
      message,
      run.loadId,
      cause === undefined ? undefined : { cause },
    );
    const auditErrors: unknown[] = [];
    if (rejects !== undefined) {
      await recordRejects(deps.pool, { loadId: run.loadId, rejects }).catch((error: unknown) => {
        auditErrors.push(error);
      });
    }
    await failRun(deps.pool, run, { summary: summary(), error: message }).catch(
      (error: unknown) => {
        auditErrors.push(error);
      },
    );
    if (auditErrors.length > 0) {
      failure.auditError = auditErrors.length === 1 ? auditErrors[0] : new AggregateError(
        auditErrors,
        `Recording the rejects and the failure of run ${run.loadId} both failed`,
      );
      logger.error("Could not record the failed run in the audit tables", {
        run_error: message,
        error: failure.auditError,
      });
    }
    throw failure;
  };

  // Waits while another run of this interval is in progress; closes the rows of runs now gone.
  const lock = await lockRunInterval(deps.pool, run.interval);
  let started = false;
  try {
    if (lock.abandoned.length > 0) {
      logger.warn("Marked abandoned runs failed: no live process held their interval", {
        load_ids: lock.abandoned,
      });
    }
    // Set before the insert: if the role query after it fails, the row is still closed.
    started = true;
    const role = await startRun(deps.pool, run);
    if (role.superuser) {
      logger.warn("Connected as a superuser; the extractor should run as the loader role", {
        user: role.user,
      });
    }
    logger.info("Extract started", {
      interval_start: run.interval.start.toISOString(),
      interval_end: run.interval.end.toISOString(),
      as_of: run.asOfDate,
      source: run.sourceBaseUrl,
      db_user: role.user,
    });

    // 1. Open all three (headers and first element in, retried as needed); any failure fails
    // the run before anything is written.
    const phases = { fetch_ms: 0, validate_ms: 0, land_ms: 0 };
    let phaseStart = performance.now();
    const settled = await Promise.allSettled(ENTITIES.map((entity) => {
      const { path, searchParams } = request(entity, run.interval);
      return deps.http.openArray(path, { searchParams });
    }));
    const responses = new Map<Entity, ArrayResponse>();
    const failures: string[] = [];
    settled.forEach((result, index) => {
      const entity = ENTITIES[index]!;
      if (result.status === "fulfilled") responses.set(entity, result.value);
      else failures.push((result.reason as Error).message);
    });
    const cancelAll = () =>
      Promise.all([...responses.values()].map((response) => response.cancel().catch(() => {})));
    if (failures.length > 0) {
      await cancelAll();
      for (const entity of responses.keys()) {
        counts[entity] = { fetched: 0, landed: 0, rejected: 0 };
      }
      const firstFailure = settled.find((r) => r.status === "rejected") as PromiseRejectedResult;
      await fail(`Fetching failed, nothing landed: ${failures.join("; ")}`, firstFailure.reason);
    }

    phases.fetch_ms = Math.round(performance.now() - phaseStart);
    phaseStart = performance.now();

    // 2. Did the source answer as of the day we asked for? Ours echoes it; the live API cannot.
    const echoes = [...responses.values()].map((r) => r.headers.get(AS_OF_HEADER));
    if (echoes.every((echo) => echo === null)) {
      asOfHonoured = false;
      logger.warn("The source ignores the as-of header: products and users are as of today", {
        as_of: run.asOfDate,
      });
    } else if (echoes.every((echo) => echo === run.asOfDate)) {
      asOfHonoured = true;
    } else {
      await cancelAll();
      await fail(
        `The source answered as of ${echoes.join(", ")} instead of ${run.asOfDate}, nothing landed`,
      );
    }

    // 3. One transaction: each response in turn is parsed, validated (carts also filtered on
    // the exact interval), hashed and COPYed as it arrives. Rejects roll it all back.
    const rejects: Array<RejectedRecord & { entity: Entity }> = [];
    const landed: Partial<Record<Entity, number>> = {};
    const validateTimer = { ms: 0 };
    const landEntity = async (
      entity: Entity,
      response: ArrayResponse,
      landing: Landing,
    ): Promise<void> => {
      const validator = new RecordValidator(entity);
      // Valid carts outside the interval are not copied: kept (few) in case their id conflicts.
      const outside = new Map<number, unknown>();
      let fetched = 0;
      async function* checked(): AsyncGenerator<ValidRecord> {
        for await (const element of response.elements) {
          const started = performance.now();
          const record = validator.check(element, fetched++);
          const inInterval = record === undefined || entity !== "carts" ||
            contains(run.interval, Date.parse(String(record.payload.date)));
          validateTimer.ms += performance.now() - started;
          if (record === undefined) continue;
          if (inInterval) yield record;
          else outside.set(record.recordId, record.payload);
        }
      }
      const copied = await landing.copy({
        entity,
        endpoint: `/${entity}`,
        requestUrl: response.url,
        httpStatus: response.status,
        extractedAt: response.receivedAt,
        records: checked(),
      });
      const conflicting = validator.conflictingIds();
      const firstCopies = conflicting.length === 0
        ? new Map<number, unknown>()
        : await landing.copiedPayloads(entity, conflicting.filter((id) => !outside.has(id)));
      for (const id of conflicting) if (outside.has(id)) firstCopies.set(id, outside.get(id));
      const result = validator.finish(firstCopies);
      const outsideKept = [...outside.keys()].filter((id) => !result.conflicting.has(id)).length;
      const valid = copied - conflicting.filter((id) => !outside.has(id)).length;
      landed[entity] = copied;
      const entityCounts: Record<string, number> = {
        fetched,
        landed: 0,
        rejected: result.rejected.length,
      };
      if (result.duplicatesCollapsed > 0) entityCounts.duplicates = result.duplicatesCollapsed;
      if (entity === "carts") entityCounts.outside_interval = outsideKept;
      counts[entity] = entityCounts;
      if (Object.keys(result.drift).length > 0) {
        drift[entity] = result.drift;
        logger.warn("Schema drift: fields the schema does not know were landed as received", {
          entity,
          fields: result.drift,
        });
      }
      for (const reject of result.rejected) rejects.push({ ...reject, entity });
      logger.info("Fetched", {
        entity,
        url: response.url,
        status: response.status,
        attempts: response.attempts,
        ms: response.elapsedMs(),
        records: fetched,
        valid,
        rejected: result.rejected.length,
      });
    };

    try {
      await landRun(deps.pool, run, async (landing) => {
        for (const entity of ENTITIES) {
          let response = responses.get(entity)!;
          // A body that breaks off after use is requested again: its rows are undone, not the
          // entities landed before it.
          while (true) {
            try {
              await landing.undoable(() => landEntity(entity, response, landing));
              break;
            } catch (error) {
              if (!(error instanceof BodyReadError) || response.reopen === undefined) throw error;
              const echo = response.headers.get(AS_OF_HEADER);
              response = await response.reopen(error.message);
              responses.set(entity, response);
              if (response.headers.get(AS_OF_HEADER) !== echo) {
                throw new Error(
                  `The source answered ${response.url} again as of ` +
                    `${response.headers.get(AS_OF_HEADER)} instead of ${echo}`,
                );
              }
            }
          }
        }
        if (rejects.length > 0) throw new InvalidRecordError(firstLines(rejects));
        for (const entity of ENTITIES) counts[entity]!.landed = landed[entity] ?? 0;
        return summary();
      });
    } catch (error) {
      await cancelAll();
      for (const entity of ENTITIES) if (counts[entity]) counts[entity].landed = 0;
      if (rejects.length > 0 && error instanceof InvalidRecordError) {
        for (const reject of rejects.slice(0, 20)) {
          logger.warn("Rejected record", {
            entity: reject.entity,
            record_key: reject.recordKey,
            reason: reject.reason,
          });
        }
        await fail(
          `${rejects.length} record(s) rejected, nothing landed (see audit.extract_rejects ` +
            `where load_id = '${run.loadId}'): ${firstLines(rejects)}`,
          error,
          rejects,
        );
      }
      const reading = error instanceof BodyReadError || error instanceof UpstreamError;
      await fail(
        `${reading ? "Fetching" : "Landing"} failed, nothing landed: ${(error as Error).message}`,
        error,
      );
    }
    phases.validate_ms = Math.round(validateTimer.ms);
    // Land = reading and parsing the bodies, COPY and commit, interleaved: all but validation.
    phases.land_ms = Math.round(performance.now() - phaseStart - validateTimer.ms);
    logger.info("Extract succeeded", {
      counts,
      duration_ms: now().getTime() - run.startedAt.getTime(),
      ...phases,
    });
    return { loadId: run.loadId, asOfDate: run.asOfDate, counts, drift, asOfHonoured };
  } catch (error) {
    // Whatever went wrong, the audit row ends failed, never left running by an error.
    if (started && !(error instanceof ExtractFailedError)) {
      await fail(`Extract failed unexpectedly: ${(error as Error).message}`, error);
    }
    throw error;
  } finally {
    await lock.release();
  }
}
