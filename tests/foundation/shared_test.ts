/**
 * The workers' shared module: config parsing, and withClient against the real database. The
 * pure parts of errors.ts and log.ts are tested beside them (workers/shared/*_test.ts).
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  ConfigError,
  createPool,
  isRetriable,
  parseConfig,
  pgEnv,
  RetriableError,
  withClient,
  withTransaction,
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

const superuserPool = () =>
  createPool({
    PGHOST: Deno.env.get("PGHOST") ?? "127.0.0.1",
    PGPORT: Number(Deno.env.get("PGPORT") ?? "5432"),
    PGDATABASE: Deno.env.get("PGDATABASE") ?? "warehouse",
    PGUSER: Deno.env.get("POSTGRES_USER") ?? "postgres",
    PGPASSWORD: Deno.env.get("POSTGRES_PASSWORD") ?? "postgres",
  }, { applicationName: "shared-test", max: 1 });

Deno.test({
  name: "withClient survives a server-side disconnect and drops the broken client",
  sanitizeResources: false,
  fn: async () => {
    const pool = superuserPool();
    try {
      // the session ends its own backend: the client emits 'error' and the query rejects
      await assert.rejects(
        withClient(pool, (client) => client.query("select pg_terminate_backend(pg_backend_pid())")),
        (error: unknown) => (error as { code?: string }).code === "57P01",
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

Deno.test({
  name: "withClient with retriableWhenLost: work that outlives its connection is retriable",
  sanitizeResources: false,
  fn: async () => {
    const pool = superuserPool();
    try {
      const lost = withClient(pool, async (client) => {
        await client.query("select pg_terminate_backend(pg_backend_pid())").catch(() => {});
        await client.query("select 1");
      }, { retriableWhenLost: "testing" });
      await assert.rejects(
        lost,
        (error: unknown) =>
          error instanceof RetriableError && isRetriable(error) &&
          error.message === "Lost the PostgreSQL connection while testing",
      );
      // a server-side ERROR on a live connection keeps its own error
      await assert.rejects(
        withClient(pool, (client) => client.query("select 1/0"), { retriableWhenLost: "testing" }),
        (error: unknown) =>
          !(error instanceof RetriableError) &&
          (error as { code?: string }).code === "22012",
      );
    } finally {
      await pool.end();
    }
  },
});
