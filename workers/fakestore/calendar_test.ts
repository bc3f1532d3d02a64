/** Unit: the shop's days and the strict YYYY-MM-DD dates the API accepts. */
import assert from "node:assert/strict";
import {
  DAY_MS,
  dayIndexOf,
  dayStartMs,
  dayToDate,
  parseDateOnly,
  SHOP_EPOCH,
} from "./calendar.ts";

Deno.test("parseDateOnly takes real calendar dates as UTC midnight", () => {
  assert.equal(parseDateOnly("2026-11-20"), Date.UTC(2026, 10, 20));
  assert.equal(parseDateOnly("2024-02-29"), Date.UTC(2024, 1, 29), "a leap day");
  assert.equal(parseDateOnly("1970-01-01"), 0);
});

Deno.test("parseDateOnly refuses anything but a strict, existing YYYY-MM-DD", () => {
  for (
    const text of [
      "2026-02-29",
      "2026-13-01",
      "2026-11-31",
      "2026-1-01",
      "2026-11-20T00:00:00Z",
      " 2026-11-20",
      "20261120",
      "",
    ]
  ) {
    assert.equal(parseDateOnly(text), undefined, JSON.stringify(text));
  }
});

Deno.test("day 0 is the shop's opening day; days before it are negative", () => {
  const opening = parseDateOnly(SHOP_EPOCH)!;
  assert.equal(dayIndexOf(opening), 0);
  assert.equal(dayIndexOf(opening + DAY_MS - 1), 0, "the last millisecond of day 0");
  assert.equal(dayIndexOf(opening + DAY_MS), 1);
  assert.equal(dayIndexOf(opening - 1), -1);
  assert.equal(dayToDate(0), SHOP_EPOCH);
  assert.equal(dayToDate(-1), "2023-12-31");
});

Deno.test("day index, start and date agree with each other", () => {
  for (const date of ["2024-01-01", "2024-12-31", "2026-11-20", "2030-06-15"]) {
    const day = dayIndexOf(parseDateOnly(date)!);
    assert.equal(dayToDate(day), date);
    assert.equal(dayStartMs(day), parseDateOnly(date));
  }
  assert.equal(dayIndexOf(Date.UTC(2026, 10, 20, 23, 59)), 1054);
});
