import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import type { ProducerRecord, RecordMetadata } from "kafkajs";
import { createLogger } from "../shared/mod.ts";
import {
  gaveUp,
  KafkaJSConnectionError,
  protocolError,
  refused,
} from "../shared/kafka_errors_testing.ts";
import { fallbackCatalog } from "./catalog.ts";
import { MessageStream } from "./chaos.ts";
import { OrderSimulator } from "./lifecycle.ts";
import { keyPartitioner } from "./partitions.ts";
import { newManifest, publish, type PublishOptions } from "./publisher.ts";
import { Random } from "./random.ts";
import type { ProducerSession } from "./session.ts";

/** A broker error as kafkajs' retrier rejects it without retrying. */
const brokerError = (type: string, code: number, retriable: boolean): Error =>
  refused(protocolError(type, code, retriable));

/** One step of the fake session: fail, answer only some partitions, or answer all. */
type Step = Error | { onlyPartitions: (partition: number) => boolean } | "ok";

/** A session that plays `steps` in turn (then answers every partition); it records each call. */
function fakeSession(steps: Step[], recreateFailures: Error[] = []) {
  const sends: ProducerRecord[] = [];
  const calls: string[] = [];
  const session: ProducerSession = {
    send: (record) => {
      sends.push(record);
      calls.push("send");
      const step = steps.shift() ?? "ok";
      if (step instanceof Error) return Promise.reject(step);
      const partitions = new Set(record.messages.map((message) => message.partition!));
      const answered = [...partitions].filter((partition) =>
        step === "ok" || step.onlyPartitions(partition)
      );
      return Promise.resolve(answered.map((partition): RecordMetadata => ({
        topicName: record.topic,
        partition,
        errorCode: 0,
        baseOffset: "0",
      })));
    },
    recreate: () => {
      calls.push("recreate");
      const failure = recreateFailures.shift();
      return failure ? Promise.reject(failure) : Promise.resolve();
    },
  };
  return { session, sends, calls };
}

function setUp(seed: string) {
  const random = new Random(seed);
  const catalog = fallbackCatalog({ from: 1, to: 3 }, { from: 1, to: 3 }, random);
  const stream = new MessageStream(new OrderSimulator(random, catalog), random, {
    duplicatePct: 0,
    latePct: 0,
    malformedPct: 0,
  });
  const manifest = newManifest({
    topic: "t",
    seed,
    catalog: { source: "fallback", users: 3, products: 3 },
    chaos: { duplicate_pct: 0, late_pct: 0, malformed_pct: 0 },
  });
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = createLogger("unit", { sink: (line) => lines.push(JSON.parse(line)) });
  const options: PublishOptions = {
    topic: "t",
    rate: Infinity,
    count: 30,
    partitionOf: keyPartitioner(6),
    logger,
  };
  return { stream, manifest, lines, options };
}

const warnings = (lines: Array<{ level: string; msg: string }>) =>
  lines.filter((line) => line.level === "warn").map((line) => line.msg);

Deno.test("publish resends a batch after a retriable failure and counts the resend", async () => {
  const { stream, manifest, lines, options } = setUp("resend");
  const outage = gaveUp(new KafkaJSConnectionError("Connection error: connect ECONNREFUSED"));
  const { session, sends, calls } = fakeSession([outage]);
  await publish(session, stream, manifest, options);
  assertEquals(calls, ["send", "send"], "the batch went again, on the same producer");
  assertEquals(sends[1]!.messages, sends[0]!.messages);
  assertEquals([manifest.acknowledged.total, manifest.resent_batches], [30, 1]);
  assertEquals(manifest.valid_event_ids.length, 30);
  assertEquals(warnings(lines), ["Send failed, resending"]);
});

Deno.test("publish sets each message's partition from its key", async () => {
  const { stream, manifest, options } = setUp("partitions");
  const { session, sends } = fakeSession([]);
  await publish(session, stream, manifest, options);
  for (const message of sends[0]!.messages) {
    assertEquals(message.partition, options.partitionOf(String(message.key)));
  }
  assert(new Set(sends[0]!.messages.map((message) => message.partition)).size > 1);
});

Deno.test("publish recreates the producer after OUT_OF_ORDER_SEQUENCE_NUMBER and resends", async () => {
  const { stream, manifest, lines, options } = setUp("recreate");
  const outOfOrder = brokerError("OUT_OF_ORDER_SEQUENCE_NUMBER", 45, false);
  const { session, sends, calls } = fakeSession([outOfOrder]);
  await publish(session, stream, manifest, options);
  assertEquals(calls, ["send", "recreate", "send"]);
  assertEquals(sends[1]!.messages, sends[0]!.messages);
  assertEquals(
    [manifest.acknowledged.total, manifest.resent_batches, manifest.producers_recreated],
    [30, 1, 1],
  );
  assertEquals(manifest.unacknowledged.total, 0);
  assertEquals(warnings(lines), ["Producer state broken, recreating the producer and resending"]);
});

Deno.test("publish retries a recreate that cannot connect yet", async () => {
  const { stream, manifest, options } = setUp("recreate-retry");
  const refused = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
  const { session, calls } = fakeSession(
    [brokerError("UNKNOWN_PRODUCER_ID", 59, false)],
    [refused],
  );
  await publish(session, stream, manifest, options);
  assertEquals(calls, ["send", "recreate", "recreate", "send"]);
  assertEquals([manifest.acknowledged.total, manifest.producers_recreated], [30, 1]);
});

Deno.test("publish resends only the partitions an answer left out (kafkajs#1798)", async () => {
  const { stream, manifest, lines, options } = setUp("missing-partition");
  // The answer leaves out the partition of the batch's first message.
  let left: number | undefined;
  const { session, sends } = fakeSession([{
    onlyPartitions: (partition) => partition !== (left ??= sends[0]!.messages[0]!.partition),
  }]);
  await publish(session, stream, manifest, options);
  const first = sends[0]!.messages;
  assert(first.some((message) => message.partition !== left), "the batch spans partitions");
  assertEquals(sends[1]!.messages, first.filter((message) => message.partition === left));
  assertEquals([manifest.acknowledged.total, manifest.resent_batches], [30, 1]);
  assertEquals(new Set(manifest.valid_event_ids).size, 30, "each id acknowledged once");
  assertEquals(warnings(lines), [
    "Answer left partitions unacknowledged, resending their messages",
  ]);
});

Deno.test("publish gives up on a failure no retry can fix and reports the batch", async () => {
  const { stream, manifest, options } = setUp("fatal");
  const tooLarge = brokerError("MESSAGE_TOO_LARGE", 10, false);
  const { session, sends } = fakeSession([tooLarge]);
  await rejects(
    publish(session, stream, manifest, options),
    (error: unknown) =>
      error instanceof Error &&
      error.message ===
        "Sending 30 messages to topic t failed: an error no retry can fix" &&
      error.cause === tooLarge,
  );
  assertEquals(sends.length, 1, "no resend");
  assertEquals([manifest.acknowledged.total, manifest.resent_batches], [0, 0]);
  assertEquals([manifest.unacknowledged.total, manifest.unacknowledged.valid], [30, 30]);
  const sentIds = sends[0]!.messages.map((message) => JSON.parse(String(message.value)).event_id);
  assertEquals(manifest.unacknowledged.event_ids, sentIds);
});

Deno.test("publish gives up when the retry budget is spent, keeping what was acknowledged", async () => {
  const { stream, manifest, options } = setUp("budget");
  const outage = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
  // The first batch goes through; the second fails with 100 ms of budget (backoff is 250 ms).
  const { session } = fakeSession(["ok", outage]);
  await rejects(
    publish(session, stream, manifest, { ...options, maxBatch: 10, retryBudgetMs: 100 }),
    /^Error: Sending 10 messages to topic t failed: no time left to retry \(\d+ ms left after 1 failed tries\)$/,
  );
  assertEquals([manifest.acknowledged.total, manifest.unacknowledged.total], [10, 10]);
  assertEquals(manifest.resent_batches, 0);
});

Deno.test("publish gives up at once after a stop request's deadline", async () => {
  const { stream, manifest, options } = setUp("stop");
  const outage = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
  const { session, sends } = fakeSession([outage]);
  await rejects(
    publish(session, stream, manifest, { ...options, giveUpBy: () => performance.now() }),
    /no time left to retry/,
  );
  assertEquals(sends.length, 1);
  assertEquals(manifest.unacknowledged.total, 30);
});
