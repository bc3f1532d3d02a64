import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { summaryLine } from "./stream_report.ts";

const figures = {
  oneRatio: 0.6149,
  twoRatio: 0.455,
  peakMiB: 231.6,
  latencyRate: 20_000,
  p99Ms: 315,
};

Deno.test("summaryLine: the issue's wording, ratios to two decimals, RSS in whole MiB", () => {
  assertEquals(
    summaryLine(figures),
    "stream: 1 consumer 0.61 x copy, 2 consumers 0.46 x copy(2 conns), peak RSS 232 MiB, " +
      "p99 at 20k/s 315 ms",
  );
});

Deno.test("summaryLine: the cluster p99 is appended only when it was measured", () => {
  assertEquals(
    summaryLine({ ...figures, clusterP99Ms: 237 }).endsWith(
      "p99 at 20k/s 315 ms, cluster p99 237 ms",
    ),
    true,
  );
  assertEquals(
    summaryLine({ ...figures, latencyRate: 5_000 }).endsWith("p99 at 5k/s 315 ms"),
    true,
  );
});
