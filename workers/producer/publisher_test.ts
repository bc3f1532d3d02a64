import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import * as kafkajsModule from "kafkajs";
import type { Producer, ProducerRecord } from "kafkajs";
import { createLogger } from "../shared/mod.ts";
import { fallbackCatalog } from "./catalog.ts";
import { MessageStream } from "./chaos.ts";
import { OrderSimulator } from "./lifecycle.ts";
import { newManifest, publish } from "./publisher.ts";
import { Random } from "./random.ts";

// kafkajs is CommonJS and spreads its error classes into module.exports: Deno finds them on the
// default export only.
const kafkajs = (kafkajsModule as unknown as { default: typeof kafkajsModule }).default;
const {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} = kafkajs;

/** A producer whose sends fail with `failures` in turn, then succeed; it records every send. */
function fakeProducer(failures: Error[]) {
  const sends: ProducerRecord[] = [];
  const producer = {
    send: (record: ProducerRecord) => {
      sends.push(record);
      const failure = failures.shift();
      return failure ? Promise.reject(failure) : Promise.resolve([]);
    },
  } as unknown as Producer;
  return { producer, sends };
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
  return { stream, manifest, lines, logger };
}

Deno.test("publish resends a batch after a retriable failure and counts the resend", async () => {
  const { stream, manifest, lines, logger } = setUp("resend");
  const outage = Reflect.construct(KafkaJSNumberOfRetriesExceeded, [
    new KafkaJSConnectionError("Connection error: connect ECONNREFUSED"),
    { retryCount: 8 },
  ]);
  const { producer, sends } = fakeProducer([outage]);
  await publish(producer, stream, manifest, { topic: "t", rate: Infinity, count: 30, logger });
  assertEquals(sends.length, 2, "the batch went again");
  assertEquals(sends[1]!.messages, sends[0]!.messages);
  assertEquals([manifest.acknowledged.total, manifest.resent_batches], [30, 1]);
  assertEquals(manifest.valid_event_ids.length, 30);
  assertEquals(lines.map((line) => [line.level, line.msg]), [["warn", "Send failed, resending"]]);
});

Deno.test("publish stops with a clear error on a failure no retry can fix", async () => {
  const { stream, manifest, logger } = setUp("fatal");
  const tooLarge = new KafkaJSProtocolError(
    Object.assign(new Error("The request included a message larger than the max message size"), {
      type: "MESSAGE_TOO_LARGE",
      code: 10,
      retriable: false,
    }),
  );
  const fatal = Reflect.construct(KafkaJSNonRetriableError, [tooLarge, { cause: tooLarge }]);
  const { producer, sends } = fakeProducer([fatal, fatal, fatal]);
  await rejects(
    publish(producer, stream, manifest, { topic: "t", rate: Infinity, count: 30, logger }),
    (error: unknown) =>
      error instanceof Error &&
      error.message === "Sending 30 messages to topic t failed with an error no retry can fix" &&
      error.cause === fatal,
  );
  assertEquals(sends.length, 1, "no resend");
  assertEquals([manifest.acknowledged.total, manifest.resent_batches], [0, 0]);
  assert(manifest.valid_event_ids.length === 0);
});
