/**
 * One failover run on the cluster instance, shared by the `cluster` suite and `make chaos`: a
 * fresh replicated topic, consumers landing it, the real producer sending at a steady rate, a
 * disruption while it sends, then the checks: the producer exits 0 with nothing given up, every
 * acknowledged event landed once (the manifest), and no partition stays under-replicated. How
 * long the pipeline stalled is measured and printed, never asserted (a timing is no test).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { Manifest } from "../../workers/producer/publisher.ts";
import {
  assertMatchesManifest,
  closeSql,
  ConsumerProcess,
  createTopic,
  deleteTopics,
  env,
  type ProducerRun,
  startProducer,
  startService,
  stopService,
  storedOffsetSum,
  streamNames,
  topicEnd,
  waitCaughtUp,
  waitFor,
} from "../streaming/helpers.ts";
import { nodeName, partitionLeaders, underReplicated } from "./cluster.ts";

/** What a disruption gets to work with. */
export interface FailoverContext {
  topic: string;
  group: string;
  consumers: ConsumerProcess[];
  /** Prints a line prefixed with the run's name and the seconds since the producer started. */
  say: (line: string) => void;
}

/** Options of `failover`. */
export interface FailoverOptions {
  name: string;
  consumers: number;
  /** Events per second, and for how long. */
  rate: number;
  seconds: number;
  /** What happens to the cluster (or the consumers) while the producer sends. */
  disrupt: (context: FailoverContext) => Promise<void>;
}

/** The longest wait between two changes of a polled number (after its first change). */
export class StallMeter {
  #longestMs = 0;
  #lastChange: number | null = null;
  #last: number | null = null;
  #running = true;
  readonly #done: Promise<void>;

  constructor(read: () => Promise<number>, intervalMs = 100) {
    this.#done = (async () => {
      while (this.#running) {
        const value = await read();
        const now = performance.now();
        if (this.#last !== null && value !== this.#last) {
          if (this.#lastChange !== null) {
            this.#longestMs = Math.max(this.#longestMs, now - this.#lastChange);
          }
          this.#lastChange = now;
        }
        this.#last = value;
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
  }

  /** Stops polling; the longest gap in milliseconds. */
  async stop(): Promise<number> {
    this.#running = false;
    await this.#done;
    return Math.round(this.#longestMs);
  }
}

/** The producer's most frequent warning and error messages, counted (`Send failed… ×2; …`). */
export function warningSummary(log: string): string {
  const counts = new Map<string, number>();
  for (const line of log.split("\n")) {
    try {
      const { level, msg } = JSON.parse(line) as { level?: string; msg?: string };
      if ((level === "warn" || level === "error") && msg) {
        counts.set(msg, (counts.get(msg) ?? 0) + 1);
      }
    } catch {
      // not a log line
    }
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return top.map(([msg, n]) => `${msg} ×${n}`).join("; ");
}

/** Waits until no partition of `topic` is led by `node` (the controller moved them). */
export async function waitLeadersMoved(topic: string, node: number): Promise<void> {
  await waitFor(async () => ![...(await partitionLeaders(topic)).values()].includes(node), {
    timeoutMs: 60_000,
    message: `partitions of ${topic} still led by node ${node}`,
    intervalMs: 250,
  });
}

/**
 * SIGKILLs Kafka node `node`, waits until its partitions of `topic` have new leaders (running
 * `whileDown` meanwhile), and restarts it through the stack manager.
 */
export async function killNode(
  { topic, say }: Pick<FailoverContext, "topic" | "say">,
  node: number,
  whileDown: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const name = nodeName(node);
  const leading = [...(await partitionLeaders(topic)).values()].filter((l) => l === node).length;
  say(`SIGKILL ${name} (node ${node}), leader of ${leading} partitions`);
  await stopService(name, "SIGKILL");
  await whileDown();
  await waitLeadersMoved(topic, node);
  say(`its partitions have new leaders; restarting ${name}`);
  await startService(name);
  say(`${name} is back`);
}

/** Registers a failover scenario as a test; it runs only in a cluster instance of 3+ nodes. */
export function failoverTest(title: string, options: FailoverOptions): void {
  Deno.test({
    name: title,
    ignore: env.STACK_INSTANCE !== "cluster" || Number(env.KAFKA_NODES) < 3,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      try {
        await failover(options);
      } finally {
        await closeSql();
      }
    },
  });
}

/** Runs one failover scenario end to end and checks it; returns the manifest. */
export async function failover(options: FailoverOptions): Promise<Manifest> {
  const { topic, group } = streamNames(options.name);
  const consumers: ConsumerProcess[] = [];
  let producer: ProducerRun | undefined;
  const started = performance.now();
  const say = (line: string) =>
    console.log(
      `  [${options.name} +${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`,
    );
  try {
    await createTopic(topic);
    for (let i = 0; i < options.consumers; i++) {
      consumers.push(new ConsumerProcess(topic, group, { LOG_LEVEL: "info" }));
    }
    await waitFor(
      () => Promise.resolve(consumers.every((c) => c.logLines(/"Joined group"/).length > 0)),
      {
        timeoutMs: 60_000,
        message: `the consumers of ${group} did not join`,
      },
    );
    const landing = new StallMeter(() => storedOffsetSum(group, topic));
    producer = startProducer(topic, [
      "--rate",
      String(options.rate),
      "--duration",
      String(options.seconds),
      "--seed",
      `${options.name}-${topic}`,
      "--duplicate-pct",
      "2",
      "--late-pct",
      "2",
      "--malformed-pct",
      "1",
    ]);
    say(`producing ${options.rate}/s for ${options.seconds} s, ${options.consumers} consumer(s)`);
    await waitFor(async () => (await topicEnd(topic)) >= options.rate * 3, {
      timeoutMs: 60_000,
      message: `the producer did not get going on ${topic}`,
    });
    await options.disrupt({ topic, group, consumers, say });
    const manifest = await producer.finished;
    say("producer done; waiting for the consumers to land everything acknowledged");
    const alive = consumers.filter((c) => c.running);
    await waitCaughtUp(group, topic, 120_000, alive, manifest.acknowledged.total);
    const landingGapMs = await landing.stop();
    for (const consumer of alive) assertEquals(await consumer.stop(), 0);
    assertEquals(manifest.unacknowledged, { total: 0, valid: 0, event_ids: [] });
    await assertMatchesManifest(topic, manifest, {
      exactDuplicates: manifest.resent_batches === 0,
    });
    await waitFor(async () => (await underReplicated(topic)) === 0, {
      timeoutMs: 90_000,
      message: `partitions of ${topic} stayed under-replicated`,
      intervalMs: 500,
    });
    say(
      `0 lost, 0 doubled of ${manifest.acknowledged.valid} events; no partition ` +
        "under-replicated",
    );
    say(`producer warnings: ${warningSummary(await producer.log) || "none"}`);
    console.log(
      `STALL ${options.name}: longest wait between acknowledged sends ` +
        `${manifest.longest_ack_gap_ms} ms, between committed consumer batches ${landingGapMs} ms ` +
        `(resent batches ${manifest.resent_batches}, producers recreated ` +
        `${manifest.producers_recreated})`,
    );
    return manifest;
  } finally {
    // A run that failed early leaves the producer running: its failure is not this one's.
    producer?.finished.catch(() => {});
    producer?.kill("SIGKILL");
    for (const consumer of consumers) consumer.kill("SIGKILL");
    await deleteTopics(topic);
  }
}
