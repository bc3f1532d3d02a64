/**
 * Days of the shop's history. The shop opened on SHOP_EPOCH (UTC midnight); day 0 is that day.
 * An as-of date means "the shop as it stands during that UTC day": its catalogue, its users and
 * every cart dated up to the end of that day. Dates before the opening see the opening state.
 */

export const DAY_MS = 86_400_000;

/** The first day of the shop's history (day 0). */
export const SHOP_EPOCH = "2024-01-01";

const EPOCH_MS = Date.UTC(2024, 0, 1);

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a strict `YYYY-MM-DD` calendar date to its UTC midnight in ms, or undefined. */
export function parseDateOnly(text: string): number | undefined {
  const match = DATE_PATTERN.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day
  ) {
    return undefined;
  }
  return ms;
}

/** The day index (days since SHOP_EPOCH, may be negative) containing the instant `ms`. */
export function dayIndexOf(ms: number): number {
  return Math.floor((ms - EPOCH_MS) / DAY_MS);
}

/** UTC midnight (ms) of day index `day`. */
export function dayStartMs(day: number): number {
  return EPOCH_MS + day * DAY_MS;
}

/** `YYYY-MM-DD` of day index `day`. */
export function dayToDate(day: number): string {
  return new Date(dayStartMs(day)).toISOString().slice(0, 10);
}
