/**
 * For unit tests only: kafkajs' error classes, and the errors its producer and retrier reject
 * with, built as kafkajs builds them (no broker needed).
 */
import * as kafkajsModule from "kafkajs";

// kafkajs is CommonJS and spreads its error classes into module.exports: Deno finds them on the
// default export only.
const kafkajs = (kafkajsModule as unknown as { default: typeof kafkajsModule }).default;

/** kafkajs' error classes. */
export const {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} = kafkajs;

/** A Kafka protocol error as kafkajs builds it from a broker's error code. */
export function protocolError(type: string, code: number, retriable: boolean): Error {
  return new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable }));
}

/** What kafkajs' retrier throws after its last retry (src/retry/index.js), the cause kept. */
export function gaveUp(error: Error): Error {
  return Reflect.construct(KafkaJSNumberOfRetriesExceeded, [error, {
    retryCount: 8,
    cause: error,
  }]);
}

/** What kafkajs' retrier throws for an error it does not retry, the cause kept. */
export function refused(error: Error): Error {
  return Reflect.construct(KafkaJSNonRetriableError, [error, { cause: error }]);
}
