import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RetriableError } from "../shared/mod.ts";
import {
  gaveUp,
  KafkaJSConnectionError,
  KafkaJSRequestTimeoutError,
  protocolError,
  refused,
} from "../shared/kafka_errors_testing.ts";
import { decideAfterSendFailure, producerStateError } from "./send_policy.ts";

/** A broker error code as kafkajs' retrier rejects it: the protocol error under a wrapper. */
function fromBroker(type: string, code: number, retriable: boolean): Error {
  const error = protocolError(type, code, retriable);
  return retriable ? gaveUp(error) : refused(error);
}

const plenty = { attempt: 1, remainingMs: 60_000 };

Deno.test("producer-state errors recreate the producer", () => {
  for (
    const [type, code] of [
      ["OUT_OF_ORDER_SEQUENCE_NUMBER", 45],
      ["DUPLICATE_SEQUENCE_NUMBER", 46],
      ["INVALID_PRODUCER_EPOCH", 47],
      ["INVALID_PRODUCER_ID_MAPPING", 49],
      ["UNKNOWN_PRODUCER_ID", 59],
    ] as const
  ) {
    const error = fromBroker(type, code, false);
    assertEquals(producerStateError(error), type);
    assertEquals(decideAfterSendFailure(error, plenty), {
      action: "recreate",
      delayMs: 250,
      errorType: type,
    });
  }
});

Deno.test("outages and leader changes resend with the same producer, backing off", () => {
  const outages = [
    fromBroker("NOT_LEADER_FOR_PARTITION", 6, true),
    fromBroker("NOT_ENOUGH_REPLICAS", 19, true),
    fromBroker("REQUEST_TIMED_OUT", 7, true),
    Reflect.construct(KafkaJSRequestTimeoutError, [
      "Request produce(key: 0, version: 7) timed out",
    ]),
    new KafkaJSConnectionError("Connection error: connect ECONNREFUSED"),
    new RetriableError("The answer to a send to topic t left partitions 2 unacknowledged"),
  ];
  for (const error of outages) {
    assertEquals(producerStateError(error), null);
    assertEquals(decideAfterSendFailure(error, plenty), { action: "retry", delayMs: 250 });
  }
  // The wait doubles per failed try, up to 5 s.
  const outage = outages[0]!;
  assertEquals(
    [2, 3, 6, 12].map((attempt) =>
      decideAfterSendFailure(outage, { attempt, remainingMs: 60_000 })
    ),
    [500, 1_000, 5_000, 5_000].map((delayMs) => ({ action: "retry", delayMs })),
  );
});

Deno.test("a failure no retry can fix gives up at once, whatever the time left", () => {
  for (
    const error of [
      fromBroker("MESSAGE_TOO_LARGE", 10, false),
      fromBroker("TOPIC_AUTHORIZATION_FAILED", 29, false),
      new TypeError("bug"),
    ]
  ) {
    assertEquals(decideAfterSendFailure(error, plenty), {
      action: "give_up",
      reason: "an error no retry can fix",
    });
  }
});

Deno.test("a retry that would outlast the time left gives up, naming the time", () => {
  const outage = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
  assertEquals(decideAfterSendFailure(outage, { attempt: 4, remainingMs: 1_999.6 }), {
    action: "give_up",
    reason: "no time left to retry (2000 ms left after 4 failed tries)",
  });
  const broken = fromBroker("OUT_OF_ORDER_SEQUENCE_NUMBER", 45, false);
  assertEquals(decideAfterSendFailure(broken, { attempt: 1, remainingMs: -5 }), {
    action: "give_up",
    reason: "no time left to retry (0 ms left after 1 failed tries)",
  });
});
