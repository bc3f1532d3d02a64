import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { goalsLine, historyLine, parseDays, summarize } from "./history_report.ts";
import { median } from "./stats.ts";

const MB = 1024 * 1024;
const point = (days: number, full: number, daily: number[], rawMb: number) => ({
  days,
  fullSeconds: full,
  dailySeconds: daily,
  rawBytes: rawMb * MB,
});

Deno.test("median takes the middle value, or the mean of the two middle ones", () => {
  assertEquals(median([9, 1, 5]), 5);
  assertEquals(median([4, 1, 3, 2]), 2.5);
  assertThrows(() => median([]), RangeError);
});

Deno.test("parseDays sorts, de-duplicates and refuses what is not a positive integer", () => {
  assertEquals(parseDays("365, 30,100,30"), [30, 100, 365]);
  assertThrows(() => parseDays("30,0"), RangeError);
  assertThrows(() => parseDays("30,1.5"), RangeError);
  assertThrows(() => parseDays(" , "), RangeError);
});

Deno.test("historyLine compares the longest history with 30 days, median daily runs", () => {
  const points = [
    point(365, 100, [9, 12, 10], 1825),
    point(30, 20, [8, 7, 50], 150),
    point(100, 40, [9, 9, 9], 500),
  ];
  assertEquals(
    historyLine(points),
    "history: daily/full 0.10 at 365 days, daily(365 days)/daily(30 days) 1.25, raw MB/day 5.00",
  );
  assertEquals(summarize(points).baseline.days, 30);
});

Deno.test("historyLine says so when 30 days was not run and the shortest is the baseline", () => {
  const line = historyLine([point(100, 40, [10, 10, 10], 500), point(5, 10, [4, 4, 4], 20)]);
  assertEquals(
    line,
    "history: daily/full 0.25 at 100 days, " +
      "daily(100 days)/daily(5 days, the shortest run: 30 was not run) 2.50, raw MB/day 5.00",
  );
});

Deno.test("goalsLine says which goal is met and by how much one is missed", () => {
  const line = goalsLine([point(30, 20, [8, 8, 8], 150), point(365, 100, [20, 20, 20], 2190)]);
  assertEquals(
    line,
    "goals: daily/full 0.20 <= 0.10 missed by 100 %; daily growth 2.50 <= 1.30 missed by 92 %; " +
      "raw MB/day 6.00 <= 5.50 missed by 9 %",
  );
});
