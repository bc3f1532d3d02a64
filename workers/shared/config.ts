/**
 * Config is parsed once, at start-up, before any connection opens: a zod schema turns the
 * environment into a frozen, typed object. A bad value throws a ConfigError naming every bad key.
 */
import { z } from "zod";
import { ConfigError } from "./errors.ts";
import { formatIssues } from "./zod_issues.ts";

/** Parses `env` (default: the process environment) with `schema` into a frozen object. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`Invalid configuration: ${formatIssues(result.error.issues)}`);
  }
  return Object.freeze(result.data) as Readonly<z.infer<S>>;
}

/** The standard libpq variables every worker connects with. */
export const pgEnv = {
  PGHOST: z.string().min(1).default("127.0.0.1"),
  PGPORT: z.coerce.number().int().min(1).max(65535).default(5432),
  PGDATABASE: z.string().min(1).default("warehouse"),
  PGUSER: z.string().min(1).default("loader"),
  PGPASSWORD: z.string().default("loader"),
  // Timeouts (db.ts's createPool explains each); 0 turns the server-side ones off.
  PG_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(86_400_000).optional(),
  PG_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
};

/** Integer in [min, max] read from a string environment variable. */
export const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
