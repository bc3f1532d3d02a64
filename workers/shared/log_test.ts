import assert from "node:assert/strict";
import { createLogger, errorChain } from "./log.ts";

Deno.test("the logger writes one JSON line with level, worker and ids, honouring the level", () => {
  const lines: string[] = [];
  const logger = createLogger("unit", { level: "info", sink: (line) => lines.push(line) });
  logger.debug("hidden");
  logger.child({ topic: "order_events" }).info("Landed batch", { partition: 3, offset: 10n });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  assert.equal(entry.level, "info");
  assert.equal(entry.worker, "unit");
  assert.equal(entry.msg, "Landed batch");
  assert.equal(entry.topic, "order_events");
  assert.equal(entry.partition, 3);
  assert.equal(entry.offset, "10");
});

Deno.test("errorChain flattens causes for a log line", () => {
  const chain = errorChain(new Error("outer", { cause: new RangeError("inner") }));
  assert.deepEqual(chain, [
    { name: "Error", message: "outer" },
    { name: "RangeError", message: "inner" },
  ]);
  assert.deepEqual(errorChain("plain text"), [{ name: "string", message: "plain text" }]);
});

Deno.test("alert lines pass every level filter below them", () => {
  const lines: string[] = [];
  const logger = createLogger("unit", { level: "error", sink: (line) => lines.push(line) });
  logger.warn("hidden");
  logger.alert("Same fatal error again", { offset: 7 });
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]!).level, "alert");
});
