/**
 * The extraction interval: half-open [start, end) in UTC, everywhere. Bounds are a calendar
 * date (`2026-11-20` = its UTC midnight) or an ISO-8601 timestamp with a zone (Airflow's
 * `2026-11-20T00:00:00+00:00`); a timestamp without a zone is refused rather than guessed.
 */
import { ConfigError } from "../shared/mod.ts";

/** A half-open UTC interval [start, end). */
export interface Interval {
  readonly start: Date;
  readonly end: Date;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function validCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day;
}

/** Parses one bound; `flag` names it in the error (`--start`). */
export function parseInstant(text: string, flag: string): Date {
  const problem = () =>
    new ConfigError(
      `Invalid ${flag} ${JSON.stringify(text)}: expected a UTC date (YYYY-MM-DD) or an ISO-8601 ` +
        `timestamp with a zone (e.g. 2026-11-20T00:00:00Z)`,
    );
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) {
    const [year, month, day] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    if (!validCalendarDate(year, month, day) || year < 1970) throw problem();
    return new Date(Date.UTC(year, month - 1, day));
  }
  const stamp = TIMESTAMP.exec(text);
  if (!stamp) throw problem();
  const [year, month, day] = [Number(stamp[1]), Number(stamp[2]), Number(stamp[3])];
  const [hours, minutes, seconds] = [Number(stamp[4]), Number(stamp[5]), Number(stamp[6] ?? 0)];
  if (
    !validCalendarDate(year, month, day) || year < 1970 || hours > 23 || minutes > 59 ||
    seconds > 59
  ) {
    throw problem();
  }
  const ms = Date.parse(text.replace(" ", "T"));
  if (Number.isNaN(ms)) throw problem();
  return new Date(ms);
}

/** Parses and checks the interval given on the command line. */
export function parseInterval(start: string | undefined, end: string | undefined): Interval {
  if (start === undefined || start === "") throw new ConfigError("Missing --start (see --help)");
  if (end === undefined || end === "") throw new ConfigError("Missing --end (see --help)");
  const interval = { start: parseInstant(start, "--start"), end: parseInstant(end, "--end") };
  if (interval.end.getTime() <= interval.start.getTime()) {
    throw new ConfigError(
      `Empty interval: --end ${interval.end.toISOString()} must be after --start ` +
        `${interval.start.toISOString()} (the interval is half-open, [start, end))`,
    );
  }
  return Object.freeze(interval);
}

function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The day the extractor asks the shop about: the interval's last day (end minus 1 ms), so the
 * run for [2026-11-20, 2026-11-21) sees the shop as it stood on 2026-11-20.
 */
export function asOfDate(interval: Interval): string {
  return dateOf(interval.end.getTime() - 1);
}

/**
 * The /carts filter covering the interval with whole days: startdate is the start's date
 * (inclusive), enddate the first midnight at or after the end (exclusive). The extractor still
 * filters the carts on the exact [start, end).
 */
export function cartDateParams(interval: Interval): { startdate: string; enddate: string } {
  const day = 86_400_000;
  const endMs = interval.end.getTime();
  const endMidnight = Math.ceil(endMs / day) * day;
  return { startdate: dateOf(interval.start.getTime()), enddate: dateOf(endMidnight) };
}

/** True when the instant `ms` lies in [start, end). */
export function contains(interval: Interval, ms: number): boolean {
  return ms >= interval.start.getTime() && ms < interval.end.getTime();
}
