/**
 * The figures of the dbt history benchmark (tests/bench/dbt_bench.ts) and the lines it prints
 * from them: pure functions, no I/O.
 */
import { median } from "./stats.ts";

/** The figures measured at one history length. */
export interface HistoryPoint {
  days: number;
  fullSeconds: number;
  dailySeconds: number[];
  rawBytes: number;
}

/** Issue #10's goals for a year of history. */
export const GOALS = { dailyOverFull: 0.10, dailyGrowth: 1.3, rawMbPerDay: 5.5, atDays: 365 };

const MB = 1024 * 1024;

/** The comma list of history lengths (DBT_BENCH_DAYS), ascending, each a positive integer. */
export function parseDays(list: string): number[] {
  const days = list.split(",").map((item) => item.trim()).filter((item) => item !== "");
  const parsed = days.map((item) => {
    if (!/^[1-9]\d*$/.test(item)) throw new RangeError(`Bad DBT_BENCH_DAYS entry ${item}`);
    return Number(item);
  });
  if (parsed.length === 0) throw new RangeError(`Bad DBT_BENCH_DAYS ${list}: no day count`);
  return [...new Set(parsed)].sort((a, b) => a - b);
}

/** Raw MB per day of history at one point. */
export function rawMbPerDay(point: HistoryPoint): number {
  return point.rawBytes / MB / point.days;
}

/** The summary figures of a run: the longest history against the baseline (30 days, else the shortest). */
export function summarize(points: HistoryPoint[]) {
  if (points.length === 0) throw new RangeError("Summarize a history run with no point");
  const sorted = [...points].sort((a, b) => a.days - b.days);
  const longest = sorted.at(-1)!;
  const baseline = sorted.find((point) => point.days === 30) ?? sorted[0]!;
  return {
    longest,
    baseline,
    dailyOverFull: median(longest.dailySeconds) / longest.fullSeconds,
    dailyGrowth: median(longest.dailySeconds) / median(baseline.dailySeconds),
    rawMbPerDay: rawMbPerDay(longest),
  };
}

/** The benchmark's last line (issue #10 item 8 fixes its wording). */
export function historyLine(points: HistoryPoint[]): string {
  const s = summarize(points);
  const baselineLabel = s.baseline.days === 30
    ? "30 days"
    : `${s.baseline.days} days, the shortest run: 30 was not run`;
  return `history: daily/full ${s.dailyOverFull.toFixed(2)} at ${s.longest.days} days, ` +
    `daily(${s.longest.days} days)/daily(${baselineLabel}) ${s.dailyGrowth.toFixed(2)}, ` +
    `raw MB/day ${s.rawMbPerDay.toFixed(2)}`;
}

/** `value` against an upper-bound goal: "met" or by how much it is missed. */
export function verdict(value: number, goal: number): string {
  return value <= goal ? "met" : `missed by ${((value / goal - 1) * 100).toFixed(0)} %`;
}

/** The goals beside the run's figures, one line. */
export function goalsLine(points: HistoryPoint[]): string {
  const s = summarize(points);
  const at = s.longest.days === GOALS.atDays
    ? ""
    : ` (goals are set at ${GOALS.atDays} days; this run's longest is ${s.longest.days})`;
  return `goals${at}: daily/full ${s.dailyOverFull.toFixed(2)} <= ${
    GOALS.dailyOverFull.toFixed(2)
  } ${verdict(s.dailyOverFull, GOALS.dailyOverFull)}; daily growth ${s.dailyGrowth.toFixed(2)} <= ${
    GOALS.dailyGrowth.toFixed(2)
  } ${verdict(s.dailyGrowth, GOALS.dailyGrowth)}; ` +
    `raw MB/day ${s.rawMbPerDay.toFixed(2)} <= ${GOALS.rawMbPerDay.toFixed(2)} ${
      verdict(s.rawMbPerDay, GOALS.rawMbPerDay)
    }`;
}
