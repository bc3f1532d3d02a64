/**
 * Dead-letter replay (`make dlq-replay`): re-validates dead letters and moves those that now
 * pass into raw.order_events, exactly once, marking them replayed_at / replayed_event_id.
 * A dead letter passes after the contract or the consumer changed, or after an operator put a
 * corrected value in its `fixed_value` column. Prints a JSON summary on stdout.
 *
 *   deno task dlq-replay [--error-class parse|schema|oversize]... [--since ISO] [--until ISO]
 *                        [--id N]... [--topic NAME] [--limit N] [--dry-run]
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  ConfigError,
  createLogger,
  createPool,
  describeIssues,
  ERROR_CLASSES,
  parseConfig,
  pgEnv,
  runMain,
} from "../shared/mod.ts";
import { replayDeadLetters, type ReplayFilters } from "./replay.ts";

const logger = createLogger("dlq-replay");

const argsSchema = z.object({
  "error-class": z.array(z.enum(ERROR_CLASSES as [string, ...string[]])).optional(),
  since: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  until: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  id: z.array(z.coerce.number().int().min(1)).optional(),
  topic: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).optional(),
  "dry-run": z.boolean().optional(),
});

async function main(): Promise<void> {
  const config = parseConfig(z.object(pgEnv));
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      "error-class": { type: "string", multiple: true },
      since: { type: "string" },
      until: { type: "string" },
      id: { type: "string", multiple: true },
      topic: { type: "string" },
      limit: { type: "string" },
      "dry-run": { type: "boolean" },
    },
  });
  // Repeated flags and comma lists both work: --id 3 --id 4, --id 3,4.
  const split = (list?: string[]) => list?.flatMap((item) => item.split(",")).filter(Boolean);
  const parsed = argsSchema.safeParse({
    ...values,
    "error-class": split(values["error-class"]),
    id: split(values.id),
  });
  if (!parsed.success) {
    throw new ConfigError(`Invalid arguments: ${describeIssues(parsed.error.issues)}`);
  }
  const args = parsed.data;
  const filters: ReplayFilters = {
    errorClasses: args["error-class"],
    since: args.since ? new Date(args.since) : undefined,
    until: args.until ? new Date(args.until) : undefined,
    ids: args.id,
    topic: args.topic,
    limit: args.limit,
  };
  const pool = createPool(config, { applicationName: "dlq-replay", max: 1 });
  try {
    const summary = await replayDeadLetters(pool, filters, {
      logger,
      dryRun: args["dry-run"] ?? false,
    });
    console.log(JSON.stringify(summary));
  } finally {
    await pool.end();
  }
}

if (import.meta.main) {
  await runMain(logger, main);
}
