import assert from "node:assert/strict";
import {
  ConfigError,
  InvalidRecordError,
  isDataError,
  isQueryTimeout,
  isRetriable,
  RetriableError,
} from "./errors.ts";
import { gaveUp, KafkaJSConnectionError, protocolError, refused } from "./kafka_errors_testing.ts";

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
  // pg-pool's and pg's own timeouts (connectionTimeoutMillis, query_timeout): an outage.
  assert.equal(isRetriable(new Error("timeout exceeded when trying to connect")), true);
  assert.equal(isRetriable(new Error("Query read timeout")), true);
  assert.equal(isRetriable(new InvalidRecordError("missing id")), false);
  assert.equal(isRetriable(new ConfigError("bad PGPORT")), false);
  assert.equal(isRetriable(Object.assign(new Error("dup"), { code: "23505" })), false);
  assert.equal(isRetriable(new TypeError("bug")), false);
});

Deno.test("isRetriable reads kafkajs' retriable flag, also under an exhausted retry", () => {
  const brokerDown = new KafkaJSConnectionError("Connection error: connect ECONNREFUSED");
  const notLeader = protocolError("NOT_LEADER_FOR_PARTITION", 6, true);
  assert.equal(isRetriable(brokerDown), true);
  assert.equal(isRetriable(gaveUp(brokerDown)), true, "retries ran out on an outage");
  assert.equal(isRetriable(gaveUp(notLeader)), true);
  const tooLarge = protocolError("MESSAGE_TOO_LARGE", 10, false);
  const outOfOrder = protocolError("OUT_OF_ORDER_SEQUENCE_NUMBER", 45, false);
  assert.equal(isRetriable(tooLarge), false);
  assert.equal(isRetriable(refused(tooLarge)), false, "a message over the broker's limit");
  assert.equal(isRetriable(refused(outOfOrder)), false);
  assert.equal(isRetriable(refused(new TypeError("bad message value"))), false);
});

Deno.test("isDataError: SQLSTATE classes 22 and 54 are the row's fault, nothing else", () => {
  const pgError = (code: unknown) => Object.assign(new Error("refused"), { code });
  assert.equal(isDataError(pgError("22003")), true, "numeric value out of range");
  assert.equal(isDataError(pgError("22P02")), true, "invalid text representation");
  assert.equal(isDataError(pgError("54000")), true, "program limit exceeded");
  assert.equal(isDataError(pgError("23505")), false, "unique violation");
  assert.equal(isDataError(pgError("57P01")), false, "admin shutdown");
  assert.equal(isDataError(pgError("42501")), false, "insufficient privilege");
  assert.equal(isDataError(pgError(22003)), false, "a Kafka error's numeric code");
  assert.equal(isDataError(new Error("no code")), false);
  assert.equal(isDataError(null), false);
  assert.equal(isDataError(undefined), false);
});

Deno.test("isQueryTimeout names pg's client-side query_timeout only", () => {
  assert.equal(isQueryTimeout(new Error("Query read timeout")), true);
  assert.equal(isQueryTimeout(new Error("timeout exceeded when trying to connect")), false);
  assert.equal(isQueryTimeout("Query read timeout"), false);
});
