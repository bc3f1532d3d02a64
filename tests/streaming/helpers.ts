/**
 * Shared by the streaming tests: unique topics and groups, the real producer and consumer run
 * as child processes (so they can be SIGKILLed), reconciliation queries, and restarts of the
 * TEST instance's PostgreSQL and Kafka (never another instance's).
 */
// @ts-types="@types/pg"
import pg from "pg";
import { Kafka, logLevel } from "kafkajs";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import process from "node:process";
import type { Manifest } from "../../workers/producer/publisher.ts";
import { topicSettings } from "../../stack/topic_settings.ts";

export const env: Readonly<Record<string, string>> = Deno.env.toObject();

// kafkajs 2.2.4 schedules a timer with a negative delay; Deno warns about it on every client.
process.removeAllListeners("warning");
process.on("warning", (warning: Error) => {
  if (warning.name !== "TimeoutNegativeWarning") console.error(warning);
});
export const REPO = new URL("../../", import.meta.url).pathname;
const BROKERS = (env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");

/** True only in the isolated test instance: the tests that restart services need it. */
export const isTestInstance = env.STACK_INSTANCE === "test";
/** Instances whose services the tests may stop and start: the isolated ones. */
const ISOLATED_INSTANCES = new Set(["test", "cluster"]);

/** A name no other test (or run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 6)}`;
}

/** A kafkajs client of this instance's brokers (for admin calls). */
export function kafka(): Kafka {
  return new Kafka({
    clientId: "streaming-tests",
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 3_000 },
  });
}

/** Creates `topic` with `partitions` partitions, replicated as order_events is on this cluster. */
export async function createTopic(topic: string, partitions = 6): Promise<void> {
  const { replicationFactor, configEntries } = topicSettings(
    Number(env.KAFKA_NODES ?? 1),
    3_600_000,
  );
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries }],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics (best effort: a test's clean-up must not hide its result). */
export async function deleteTopics(...topics: string[]): Promise<void> {
  const admin = kafka().admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // ignore
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Sum over partitions of the topic's end offset (messages ever written). */
export async function topicEnd(topic: string): Promise<number> {
  for (let attempt = 1;; attempt++) {
    const admin = kafka().admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    } catch (error) {
      // Right after a broker restart, partitions have no leader for a moment.
      if (attempt >= 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

let pool: pg.Pool | undefined;

/** Runs SQL as the test's superuser against the suite's database. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (!pool) {
    pool = new pg.Pool({
      host: env.PGHOST,
      port: Number(env.PGPORT),
      database: env.PGDATABASE,
      user: env.POSTGRES_USER ?? "postgres",
      password: env.POSTGRES_PASSWORD ?? "postgres",
      max: 2,
    });
    // Idle clients die when a test restarts PostgreSQL; the next query reconnects.
    pool.on("error", () => {});
  }
  for (let attempt = 1;; attempt++) {
    try {
      return (await pool.query<T>(text, params)).rows;
    } catch (error) {
      // The tests restart PostgreSQL: their own queries ride that out too.
      if (attempt >= 60 || !/ECONNREFUSED|terminat|shut|57P|Connection/i.test(String(error))) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Closes the verification pool (call at the end of each test file). */
export async function closeSql(): Promise<void> {
  await pool?.end();
  pool = undefined;
}

/** Polls `check` until it returns true; throws `message` after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; message: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  throw new Error(`Timed out after ${options.timeoutMs} ms: ${options.message}`);
}

/**
 * `deno run` of a worker entry (`producer/main.ts`, …) with the permissions its deno task
 * grants; `write` adds --allow-write (the producer's manifest).
 */
export function workerCommand(
  entry: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args" | "cwd"> & { write?: boolean } = {},
): Deno.Command {
  const { write, ...rest } = options;
  const permissions = ["--allow-env", "--allow-net", "--allow-sys"];
  if (write) permissions.push("--allow-write");
  return new Deno.Command("deno", {
    args: ["run", ...permissions, `workers/${entry}`, ...args],
    cwd: REPO,
    ...rest,
  });
}

/** The producer CLI as a child process, and what it says. */
export interface ProducerRun {
  pid: number;
  /** Its manifest once it exits 0; rejects with its log tail otherwise. */
  finished: Promise<Manifest>;
  /** Its log (warnings and errors) once it has exited. */
  log: Promise<string>;
  kill: (signal: Deno.Signal) => void;
}

/** Starts the producer CLI (LOG_LEVEL warn) on `topic` with `args`. */
export function startProducer(topic: string, args: string[]): ProducerRun {
  const manifestPath = Deno.makeTempFileSync({ prefix: "manifest_", suffix: ".json" });
  const child = workerCommand("producer/main.ts", [
    "--topic",
    topic,
    "--manifest",
    manifestPath,
    "--catalog",
    "fallback",
    ...args,
  ], { write: true, env: { LOG_LEVEL: "warn" }, stdout: "piped", stderr: "piped" }).spawn();
  const exited = child.output();
  const log = exited.then((output) => new TextDecoder().decode(output.stderr));
  const finished = (async () => {
    const output = await exited;
    try {
      if (!output.success) {
        throw new Error(`Producer failed (exit ${output.code}):\n${(await log).slice(-3000)}`);
      }
      return JSON.parse(await Deno.readTextFile(manifestPath)) as Manifest;
    } finally {
      await Deno.remove(manifestPath).catch(() => {});
    }
  })();
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  return { pid: child.pid, finished, log, kill };
}

/** Runs the producer CLI to completion and returns its manifest. */
export function runProducer(topic: string, args: string[]): Promise<Manifest> {
  return startProducer(topic, args).finished;
}

/** A topic and a consumer group no other test uses, named after `prefix`. */
export function streamNames(prefix: string): { topic: string; group: string } {
  return { topic: uniqueName(`t_${prefix}`), group: uniqueName(`g_${prefix}`) };
}

/** Creates `topic` and fills it with `count` messages at full speed; returns the manifest. */
export async function fillTopic(
  topic: string,
  options: {
    count: number;
    seed: string;
    duplicatePct?: number;
    latePct?: number;
    malformedPct?: number;
  },
): Promise<Manifest> {
  await createTopic(topic);
  const chaos = [
    ["--duplicate-pct", options.duplicatePct],
    ["--late-pct", options.latePct],
    ["--malformed-pct", options.malformedPct],
  ].flatMap(([flag, pct]) => pct === undefined ? [] : [String(flag), String(pct)]);
  return await runProducer(topic, [
    "--rate",
    "max",
    "--count",
    String(options.count),
    "--seed",
    options.seed,
    ...chaos,
  ]);
}

/** A consumer worker run as a child process, exactly as the stack runs it. */
export class ConsumerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #log: string[] = [];
  readonly exited: Promise<Deno.CommandStatus>;

  constructor(topic: string, group: string, overrides: Record<string, string> = {}) {
    this.#child = workerCommand("consumer/main.ts", [], {
      env: {
        PGUSER: "loader",
        PGPASSWORD: env.LOADER_PASSWORD ?? "loader",
        ORDER_EVENTS_TOPIC: topic,
        CONSUMER_GROUP: group,
        CONSUMER_SESSION_TIMEOUT_MS: "6000",
        CONSUMER_HEARTBEAT_INTERVAL_MS: "1000",
        CONSUMER_SHUTDOWN_TIMEOUT_MS: "20000",
        LOG_LEVEL: "info",
        ...overrides,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.exited = this.#child.status;
    void this.exited.then(() => this.#running = false);
    void this.#collect();
  }

  #running = true;

  /** False once the process has exited. */
  get running(): boolean {
    return this.#running;
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #collect(): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this.#child.stderr) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      this.#log.push(...lines);
      if (this.#log.length > 400) this.#log.splice(0, this.#log.length - 400);
    }
  }

  /** The last log lines (for failure messages). */
  logTail(lines = 40): string {
    return this.#log.slice(-lines).join("\n");
  }

  /** Log lines matching `pattern`. */
  logLines(pattern: RegExp): string[] {
    return this.#log.filter((line) => pattern.test(line));
  }

  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number> {
    this.kill("SIGTERM");
    return (await this.exited).code;
  }
}

/** Rows landed for `topic`: events, dead letters, dropped duplicates. */
export async function landedCounts(
  topic: string,
): Promise<{ events: number; deadLetters: number; duplicates: number }> {
  const [row] = await sql<{ events: number; dead_letters: number; duplicates: number }>(
    `select
       (select count(*) from raw.order_events where topic = $1)::int as events,
       (select count(*) from raw.order_events_dead_letters where topic = $1)::int as dead_letters,
       (select count(*) from raw.order_events_duplicates where topic = $1)::int as duplicates`,
    [topic],
  );
  return { events: row!.events, deadLetters: row!.dead_letters, duplicates: row!.duplicates };
}

/** Messages of `topic` accounted for in PostgreSQL: landed, dead-lettered or dropped. */
export async function accountedFor(topic: string): Promise<number> {
  const counts = await landedCounts(topic);
  return counts.events + counts.deadLetters + counts.duplicates;
}

/** Sum of the group's stored next offsets for `topic` in PostgreSQL. */
export async function storedOffsetSum(group: string, topic: string): Promise<number> {
  const [row] = await sql<{ total: string | null }>(
    `select sum(next_offset)::text as total from raw.consumer_offsets
     where consumer_group = $1 and topic = $2`,
    [group, topic],
  );
  return Number(row?.total ?? 0);
}

/** Waits until PostgreSQL's offsets for the group cover the whole topic. */
export async function waitCaughtUp(
  group: string,
  topic: string,
  timeoutMs: number,
  consumers: readonly ConsumerProcess[] = [],
  minimumEnd = 1,
): Promise<void> {
  // Right after a broker restart the end offsets can read low for a moment: wait for the
  // topic to show at least what the producer had acknowledged.
  let end = await topicEnd(topic);
  for (let i = 0; end < minimumEnd && i < 120; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    end = await topicEnd(topic);
  }
  try {
    await waitFor(async () => (await storedOffsetSum(group, topic)) >= end, {
      timeoutMs,
      message: `group ${group} did not reach the end (${end}) of ${topic}`,
      intervalMs: 250,
    });
  } catch (error) {
    const logs = consumers.map((c, i) => `--- consumer ${i} (pid ${c.pid}):\n${c.logTail(60)}`);
    throw new Error(`${(error as Error).message}\n${logs.join("\n")}`);
  }
}

/**
 * Exactly-once check against a manifest: every valid distinct event landed once, and every
 * other message is a dead letter or a dropped duplicate; per order, rows in offset order equal
 * the acknowledged order.
 */
export async function assertMatchesManifest(
  topic: string,
  manifest: Manifest,
  options: { exactDuplicates?: boolean } = {},
): Promise<void> {
  const rows = await sql<{ event_id: string; order_id: string }>(
    `select event_id::text, payload->>'order_id' as order_id from raw.order_events
     where topic = $1 order by kafka_partition, kafka_offset`,
    [topic],
  );
  const landed = new Set(rows.map((row) => row.event_id));
  assertEquals(rows.length, landed.size, "an event_id landed twice");
  assertEquals(rows.length, manifest.acknowledged.valid, "landed events vs manifest valid");
  const expected = new Set(manifest.valid_event_ids);
  const missing = [...expected].filter((id) => !landed.has(id));
  const extra = [...landed].filter((id) => !expected.has(id));
  assertEquals({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, {
    missing: [],
    extra: [],
  });
  const counts = await landedCounts(topic);
  const malformed = Object.values(manifest.acknowledged.by_error_class).reduce((a, b) => a + b, 0);
  assertEquals(counts.deadLetters, malformed, "dead letters vs manifest malformed");
  if (options.exactDuplicates ?? true) {
    assertEquals(counts.duplicates, manifest.acknowledged.duplicate, "duplicates vs manifest");
  }
  const byClass = await sql<{ error_class: string; n: number }>(
    `select error_class, count(*)::int as n from raw.order_events_dead_letters
     where topic = $1 group by 1`,
    [topic],
  );
  for (const [errorClass, n] of Object.entries(manifest.acknowledged.by_error_class)) {
    assertEquals(
      byClass.find((row) => row.error_class === errorClass)?.n ?? 0,
      n,
      `dead letters of class ${errorClass}`,
    );
  }
  // Per-key order: each order's landed events (by offset) in acknowledgement order.
  const position = new Map(manifest.valid_event_ids.map((id, index) => [id, index]));
  const lastSeen = new Map<string, number>();
  for (const row of rows) {
    const index = position.get(row.event_id)!;
    const previous = lastSeen.get(row.order_id);
    if (previous !== undefined && previous > index) {
      throw new Error(`Order ${row.order_id}: event ${row.event_id} landed out of order`);
    }
    lastSeen.set(row.order_id, index);
  }
}

/** Restarts one service of the TEST instance (postgres or kafka) by its pid file. */
export async function restartService(name: "postgres" | "kafka"): Promise<void> {
  if (!isTestInstance) throw new Error("Refusing to restart a service outside the test instance");
  // Fast shutdown for PostgreSQL (SIGINT), controlled shutdown for Kafka (SIGTERM).
  await stopService(name, name === "postgres" ? "SIGINT" : "SIGTERM");
  await startService(name);
}

/** The pid of one service of this isolated instance (`kafka`, `kafka-2`, `postgres`, ...). */
export async function servicePid(name: string): Promise<number> {
  if (!ISOLATED_INSTANCES.has(env.STACK_INSTANCE ?? "")) {
    throw new Error(`Refusing to touch service ${name} outside an isolated instance`);
  }
  return Number((await Deno.readTextFile(`${env.STATE_DIR}/run/${name}.pid`)).trim());
}

/** Sends `signal` to one service of this isolated instance and waits until it has exited. */
export async function stopService(name: string, signal: Deno.Signal): Promise<void> {
  const pid = await servicePid(name);
  Deno.kill(pid, signal);
  // Until the process has exited. Under the test runner (its parent, which never reaps it) it
  // stays a zombie until the runner exits.
  await waitFor(async () => !(await alive(pid)), {
    timeoutMs: 60_000,
    message: `${name} (pid ${pid}) did not stop`,
    intervalMs: 100,
  });
}

/** Starts one service of this isolated instance through the stack manager (waits for health). */
export async function startService(name: string): Promise<void> {
  const instance = env.STACK_INSTANCE ?? "";
  if (!ISOLATED_INSTANCES.has(instance)) {
    throw new Error(`Refusing to start service ${name} outside an isolated instance`);
  }
  const output = await new Deno.Command("python3", {
    args: ["-m", "stack.stackctl", "--instance", instance, "up", name],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `Starting ${name} failed:\n${new TextDecoder().decode(output.stdout)}${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
}

/** True while the process exists and has not exited (a zombie has), as stackctl's pid_alive. */
async function alive(pid: number): Promise<boolean> {
  // `ps`, not /proc: Deno grants /proc only with --allow-all.
  const output = await new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const state = new TextDecoder().decode(output.stdout).trim();
  return output.success && state !== "" && !state.startsWith("Z");
}

/**
 * Freezes the TEST instance's PostgreSQL: SIGSTOP to the postmaster and every backend (a frozen
 * server still accepts TCP connections in the kernel, but answers nothing). Returns the thaw,
 * which sends SIGCONT to the same processes; call it in a `finally`.
 */
export async function freezePostgres(): Promise<() => void> {
  if (!isTestInstance) throw new Error("Refusing to freeze a service outside the test instance");
  const postmaster = Number((await Deno.readTextFile(`${env.STATE_DIR}/run/postgres.pid`)).trim());
  const output = await new Deno.Command("ps", {
    args: ["-o", "pid=", "--ppid", String(postmaster)],
    stdout: "piped",
  }).output();
  const backends = new TextDecoder().decode(output.stdout).split(/\s+/).filter(Boolean).map(
    Number,
  );
  const frozen = [postmaster, ...backends];
  const signal = (name: Deno.Signal) => {
    for (const pid of frozen) {
      try {
        Deno.kill(pid, name);
      } catch {
        // a backend that exited meanwhile
      }
    }
  };
  // Postmaster first, so it forks no new backend between the listing and the stop.
  signal("SIGSTOP");
  return () => signal("SIGCONT");
}

/** Deletes `topic` and waits until the broker no longer lists it (so it can be created anew). */
export async function deleteTopicAndWait(topic: string): Promise<void> {
  await deleteTopics(topic);
  const admin = kafka().admin();
  await admin.connect();
  try {
    await waitFor(async () => !(await admin.listTopics()).includes(topic), {
      timeoutMs: 30_000,
      message: `topic ${topic} was not deleted`,
      intervalMs: 200,
    });
  } finally {
    await admin.disconnect();
  }
}
