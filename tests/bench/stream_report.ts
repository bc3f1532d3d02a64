/**
 * The "Streaming" section of docs/performance.md that `deno task bench:stream` writes: its
 * figures, the setup in words and the machine. The section is replaced as a whole; the profile
 * that explains the figures lives in the next section ("Streaming: where the consumer's CPU
 * goes"), which a run leaves alone.
 */
import { median } from "./stats.ts";
import { cpuDescription } from "./machine.ts";

/** A landing of the whole topic by one or two consumers. */
export interface RunFigures {
  rate: number;
  ms: number;
  rows: number;
  peakMiB: number;
  cpuUsPerEvent: number;
}

/** The latency step's figures (the consumer's LatencyRecorder summary and the producer's). */
export interface LatencyFigures {
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  count: number;
  sent: number;
  achievedRate: number;
  peakMiB: number;
}

/** What the --cluster-only step hands to the main run. */
export interface ClusterFigures {
  nodes: number;
  load: string;
  latency: LatencyFigures;
}

type Pair = { consumer: RunFigures; copy: { rate: number; ms: number } };

/** Everything one run measured, and how it was set up. */
export interface StreamFigures {
  events: number;
  prefill: { sent: number; ms: number };
  one: Pair[];
  two: Pair[];
  latency: LatencyFigures;
  cluster: ClusterFigures | string;
  load: string;
  payloadBytes: number;
  latencyRate: number;
  latencySeconds: number;
  concurrency: string;
  maxBytes: string | undefined;
  database: string;
}

/** The figures of the benchmark's last line. */
export interface Summary {
  oneRatio: number;
  twoRatio: number;
  peakMiB: number;
  latencyRate: number;
  p99Ms: number;
  clusterP99Ms?: number | undefined;
}

/** The benchmark's last line, in the wording issue #13 fixed. */
export function summaryLine(s: Summary): string {
  return `stream: 1 consumer ${s.oneRatio.toFixed(2)} x copy, 2 consumers ${
    s.twoRatio.toFixed(2)
  } x copy(2 conns), peak RSS ${s.peakMiB.toFixed(0)} MiB, p99 at ${
    s.latencyRate / 1000
  }k/s ${s.p99Ms} ms` + (s.clusterP99Ms === undefined ? "" : `, cluster p99 ${s.clusterP99Ms} ms`);
}

/** A whole number with thousands separators. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

async function machine(load: string): Promise<string> {
  const memGiB = Deno.systemMemoryInfo().total / 1024 ** 3;
  const env = Deno.env.toObject();
  return `${await cpuDescription()}; ${memGiB.toFixed(1)} GiB RAM; ` +
    `${Deno.build.os} ${Deno.osRelease()}; Deno ${Deno.version.deno}; ` +
    `Kafka ${env.KAFKA_VERSION ?? "?"} (KRaft); broker(s), database, consumers and ` +
    `producer on the same host; load average ${load} when the benchmark started`;
}

function runRows(runs: Pair[]): string[] {
  return runs.map((r, i) =>
    `| ${i + 1} | ${fmt(r.consumer.rate)} | ${(r.consumer.ms / 1000).toFixed(1)} s | ${
      r.consumer.cpuUsPerEvent.toFixed(1)
    } µs | ${r.consumer.peakMiB.toFixed(0)} MiB | ${fmt(r.copy.rate)} | ${
      (r.copy.ms / 1000).toFixed(1)
    } s | ${(r.consumer.rate / r.copy.rate).toFixed(2)} |`
  );
}

function medianRow(runs: Pair[], goal: string): string {
  const ratio = median(runs.map((r) => r.consumer.rate / r.copy.rate));
  return `| **median** | **${fmt(median(runs.map((r) => r.consumer.rate)))}** | | ${
    median(runs.map((r) => r.consumer.cpuUsPerEvent)).toFixed(1)
  } µs | ${Math.max(...runs.map((r) => r.consumer.peakMiB)).toFixed(0)} MiB (max) | **${
    fmt(median(runs.map((r) => r.copy.rate)))
  }** | | **${ratio.toFixed(2)}** (goal ${goal}) |`;
}

const HEADER = [
  "| run | consumer events/s | consumer time | consumer CPU per event | consumer peak RSS | " +
  "`psql \\copy` rows/s | `\\copy` time | ratio |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|",
];

function latencyRow(label: string, lat: LatencyFigures): string {
  return `| ${label} | ${fmt(lat.achievedRate)}/s | ${
    fmt(lat.count)
  } | ${lat.p50_ms} ms | ${lat.p95_ms} ms | ${lat.p99_ms} ms | ${lat.max_ms} ms | ${
    lat.peakMiB.toFixed(0)
  } MiB |`;
}

/** The markdown of the "Streaming" section. */
export async function section(f: StreamFigures): Promise<string> {
  const maxBytes = f.maxBytes ? `${Number(f.maxBytes) / 1024} KiB` : "512 KiB (the default)";
  const cluster = typeof f.cluster === "string"
    ? [`Cluster latency: not measured, ${f.cluster}.`]
    : [
      "| setup | producer achieved | events | p50 | p95 | p99 | max | consumer peak RSS |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      latencyRow("one node, factor 1", f.latency),
      latencyRow(
        `${f.cluster.nodes} nodes, factor 3, min.insync 2 (load ${f.cluster.load})`,
        f.cluster.latency,
      ),
    ];
  return [
    "## Streaming",
    "",
    `\`make bench BENCH=stream\` (tests/bench/stream_bench.ts), run ${
      new Date().toISOString().slice(0, 10)
    }. A fresh 6-partition topic is pre-filled with ${fmt(f.events)} valid order events ` +
    `(${f.payloadBytes} bytes of jsonb each on average). Then, ${f.one.length} times on the same ` +
    "rows: the consumer (role `loader`, a new group, the exactly-once path of docs/decisions/0040 " +
    "and 0042: per batch one transaction with the offset lock, COPY into `raw.order_events` with " +
    `both unique indexes, the partition's next offset; ${f.concurrency} partitions landed at once, ` +
    `${maxBytes} fetched per partition, the V8 flags of the \`consumer\` task) lands them into ` +
    "the emptied table, and `psql \\copy` loads the very rows it landed into the emptied table " +
    "(the ceiling: no Kafka, no validation, no offsets). Rates are sustained rates, first to last " +
    "committed batch; peak RSS is the consumer's VmHWM; CPU per event is the consumer process's " +
    "user + system time over its whole life (start-up included) divided by the events.",
    "",
    "One consumer against `psql \\copy` over one connection:",
    "",
    ...HEADER,
    ...runRows(f.one),
    medianRow(f.one, "≥ 0.85, ≤ 5 µs, ≤ 256 MiB"),
    "",
    "Two consumer processes in one group (3 partitions each; CPU per event is the sum of both, " +
    "peak RSS the larger; the rate counts from the moment the group is stable with both) against " +
    "two `psql \\copy` in parallel, each loading the rows of 3 partitions:",
    "",
    ...HEADER,
    ...runRows(f.two),
    medianRow(f.two, "≥ 0.55"),
    "",
    `Produce-to-committed-row latency, the consumer caught up and the simulator asked to send ${
      fmt(f.latencyRate)
    } events/s for ${f.latencySeconds} s: the consumer's PostgreSQL commit time minus the ` +
    "Kafka timestamp the producer set, in 1 ms buckets (goals at 20,000/s: one node p95 < 100 ms, " +
    "p99 < 250 ms; three nodes p99 < 500 ms). The producer is the simulator's publisher " +
    "(idempotent, acks=all, one request in flight, up to 2,000 messages per request).",
    "",
    ...(typeof f.cluster === "string"
      ? [
        "| p50 | p95 | p99 | max | producer achieved | consumer peak RSS |",
        "|---:|---:|---:|---:|---:|---:|",
        `| ${f.latency.p50_ms} ms | ${f.latency.p95_ms} ms | ${f.latency.p99_ms} ms | ${f.latency.max_ms} ms | ${
          fmt(f.latency.achievedRate)
        }/s | ${f.latency.peakMiB.toFixed(0)} MiB |`,
        "",
      ]
      : []),
    ...cluster,
    "",
    `Pre-fill (the same publisher, unthrottled): ${
      fmt(f.prefill.sent / (f.prefill.ms / 1000))
    } events/s.`,
    "",
    `Machine: ${await machine(
      f.load,
    )} (a shared machine: other work competes for the CPUs, so compare the ` +
    "columns of one run rather than runs of different days).",
    "",
  ].join("\n");
}

/** Replaces the "Streaming" section of docs/performance.md (or appends it). */
export async function writeSection(text: string): Promise<void> {
  const path = new URL("../../docs/performance.md", import.meta.url);
  let doc = await Deno.readTextFile(path);
  const start = doc.indexOf("## Streaming\n");
  if (start === -1) {
    doc = `${doc.trimEnd()}\n\n${text}`;
  } else {
    const next = doc.indexOf("\n## ", start + 1);
    doc = doc.slice(0, start) + text.trimEnd() + "\n" +
      (next === -1 ? "" : `\n${doc.slice(next + 1)}`);
  }
  await Deno.writeTextFile(path, doc);
}
