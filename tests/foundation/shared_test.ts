/** Unit tests of the workers' shared module: config parsing, retriable-vs-fatal, the logger. */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  ConfigError,
  createLogger,
  errorChain,
  InvalidRecordError,
  isRetriable,
  parseConfig,
  pgEnv,
  RetriableError,
} from "../../workers/shared/mod.ts";

Deno.test("parseConfig returns a frozen, typed object with defaults", () => {
  const config = parseConfig(z.object(pgEnv), { PGPORT: "6543" });
  assert.equal(config.PGPORT, 6543);
  assert.equal(config.PGUSER, "loader");
  assert.ok(Object.isFrozen(config));
});

Deno.test("parseConfig names every bad key at once", () => {
  const schema = z.object({ ...pgEnv, RATE: z.coerce.number().int().min(0) });
  assert.throws(
    () => parseConfig(schema, { PGPORT: "not-a-port", RATE: "-1" }),
    (error: unknown) =>
      error instanceof ConfigError && /PGPORT/.test(error.message) && /RATE/.test(error.message),
  );
});

Deno.test("isRetriable decides once, walking the cause chain", () => {
  assert.equal(isRetriable(new RetriableError("HTTP 503")), true);
  assert.equal(isRetriable(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })), true);
  assert.equal(isRetriable(Object.assign(new Error("shutdown"), { code: "57P01" })), true);
  assert.equal(
    isRetriable(new Error("Client has encountered a connection error and is not queryable")),
    true,
  );
  assert.equal(
    isRetriable(new Error("wrapped", { cause: Object.assign(new Error("x"), { code: "08006" }) })),
    true,
  );
  assert.equal(isRetriable(new InvalidRecordError("missing id")), false);
  assert.equal(isRetriable(new ConfigError("bad PGPORT")), false);
  assert.equal(isRetriable(Object.assign(new Error("dup"), { code: "23505" })), false);
  assert.equal(isRetriable(new TypeError("bug")), false);
});

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
});

Deno.test({
  name: "withClient survives a server-side disconnect and drops the broken client",
  sanitizeResources: false,
  fn: async () => {
    const { createPool, withClient, withTransaction } = await import("../../workers/shared/mod.ts");
    const pool = createPool({
      PGHOST: Deno.env.get("PGHOST") ?? "127.0.0.1",
      PGPORT: Number(Deno.env.get("PGPORT") ?? "5432"),
      PGDATABASE: Deno.env.get("PGDATABASE") ?? "warehouse",
      PGUSER: Deno.env.get("POSTGRES_USER") ?? "postgres",
      PGPASSWORD: Deno.env.get("POSTGRES_PASSWORD") ?? "postgres",
    }, { applicationName: "shared-test", max: 1 });
    try {
      // the session ends its own backend: the client emits 'error' and the query rejects
      await assert.rejects(
        withClient(pool, (client) => client.query("select pg_terminate_backend(pg_backend_pid())")),
      );
      assert.equal(pool.totalCount, 0, "the broken client is destroyed, not pooled");
      // the pool hands out a fresh, working connection afterwards
      const { rows } = await withTransaction(pool, (client) => client.query("select 1 as one"));
      assert.equal(rows[0].one, 1);
    } finally {
      await pool.end();
    }
  },
});
