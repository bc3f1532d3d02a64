/** Unit: the half-open UTC interval, its as-of day and the carts' date filter. */
import assert from "node:assert/strict";
import { asOfDate, cartDateParams, contains, parseInstant, parseInterval } from "./interval.ts";
import { parseCli } from "./cli.ts";
import { ConfigError } from "../shared/mod.ts";

Deno.test("dates are UTC midnights; timestamps need a zone", () => {
  assert.equal(parseInstant("2026-11-20", "--start").toISOString(), "2026-11-20T00:00:00.000Z");
  assert.equal(
    parseInstant("2026-11-20T01:30:00+02:00", "--start").toISOString(),
    "2026-11-19T23:30:00.000Z",
  );
  assert.equal(
    parseInstant("2026-11-20T06:00Z", "--end").toISOString(),
    "2026-11-20T06:00:00.000Z",
  );
  for (
    const bad of ["2026-11-20T00:00:00", "2026-13-01", "2026-02-30", "20261120", "yesterday", ""]
  ) {
    assert.throws(() => parseInstant(bad, "--start"), ConfigError, bad);
  }
});

Deno.test("a bad interval is a clear ConfigError", () => {
  assert.throws(
    () => parseInterval("2026-11-21", "2026-11-20"),
    /Empty interval: --end .* must be after --start/,
  );
  assert.throws(() => parseInterval("2026-11-20", "2026-11-20"), /Empty interval/);
  assert.throws(() => parseInterval(undefined, "2026-11-20"), /Missing --start/);
  assert.throws(() => parseInterval("2026-11-20", undefined), /Missing --end/);
  assert.throws(() => parseInterval("2026-11-20", "2026/11/21"), /Invalid --end "2026\/11\/21"/);
});

Deno.test("the as-of day is the interval's last day (end minus 1 ms)", () => {
  assert.equal(asOfDate(parseInterval("2026-11-20", "2026-11-21")), "2026-11-20");
  assert.equal(asOfDate(parseInterval("2026-11-20", "2026-11-23")), "2026-11-22");
  assert.equal(asOfDate(parseInterval("2026-11-20T00:00Z", "2026-11-20T06:00Z")), "2026-11-20");
});

Deno.test("carts are asked for whole days covering the interval, then filtered exactly", () => {
  assert.deepEqual(cartDateParams(parseInterval("2026-11-20", "2026-11-21")), {
    startdate: "2026-11-20",
    enddate: "2026-11-21",
  });
  const partial = parseInterval("2026-11-20T06:00Z", "2026-11-20T18:00Z");
  assert.deepEqual(cartDateParams(partial), { startdate: "2026-11-20", enddate: "2026-11-21" });
  assert.equal(contains(partial, Date.parse("2026-11-20T06:00:00.000Z")), true);
  assert.equal(
    contains(partial, Date.parse("2026-11-20T18:00:00.000Z")),
    false,
    "end is exclusive",
  );
  assert.equal(contains(partial, Date.parse("2026-11-20T05:59:59.999Z")), false);
});

Deno.test("the command line takes --start/--end/--help and refuses anything else", () => {
  assert.deepEqual(parseCli(["--start", "2026-11-20", "--end=2026-11-21"]), {
    help: false,
    start: "2026-11-20",
    end: "2026-11-21",
  });
  assert.equal(parseCli(["-h"]).help, true);
  assert.throws(() => parseCli(["--from", "2026-11-20"]), ConfigError);
  assert.throws(() => parseCli(["2026-11-20"]), ConfigError);
});
