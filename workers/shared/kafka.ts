/**
 * Kafka client helpers shared by the streaming workers (producer, consumer, status): one client
 * factory that routes kafkajs' own log lines into the worker's structured logger. kafkajs is
 * imported on first use: the batch workers load this module through mod.ts and must not pay
 * for (or need env access to load) a Kafka client they never open.
 */
import process from "node:process";
import type { Kafka, LogEntry, logLevel as LogLevel } from "kafkajs";
import type { Logger } from "./log.ts";

let warningsRouted = false;

/** Node-style process warnings go to the logger; kafkajs' known negative-timeout one is dropped. */
function routeProcessWarnings(logger: Logger): void {
  if (warningsRouted) return;
  warningsRouted = true;
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error) => {
    // kafkajs 2.2.4 schedules its throttle check with a negative delay (harmless, runs at once).
    if (warning.name === "TimeoutNegativeWarning") return;
    logger.warn(`Process warning: ${warning.message}`, { warning: warning.name });
  });
}

/** Options of `createKafka`. */
export interface KafkaOptions {
  clientId: string;
  logger: Logger;
  /** kafkajs lines below this level are dropped (default WARN: kafkajs is chatty at INFO). */
  level?: LogLevel;
  /** Client-level retries; the default suits daemons that must ride out a broker restart. */
  retry?: { retries: number; initialRetryTime?: number; maxRetryTime?: number };
  /** Connection and request timeouts (default 3 s and 30 s; a health check wants less). */
  timeouts?: { connectionMs: number; requestMs: number };
}

/** A kafkajs client for `brokers` ("host:port,host:port") logging through `logger`. */
export async function createKafka(brokers: string, options: KafkaOptions): Promise<Kafka> {
  const { Kafka, logLevel } = await import("kafkajs");
  const logger = options.logger.child({ component: "kafkajs" });
  routeProcessWarnings(options.logger);
  return new Kafka({
    clientId: options.clientId,
    brokers: brokers.split(",").map((broker) => broker.trim()).filter(Boolean),
    logLevel: options.level ?? logLevel.WARN,
    connectionTimeout: options.timeouts?.connectionMs ?? 3_000,
    requestTimeout: options.timeouts?.requestMs ?? 30_000,
    retry: options.retry ?? { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = entry.log;
      const line = `${entry.namespace}: ${message}`;
      if (entry.level === logLevel.ERROR) logger.error(line, fields);
      else if (entry.level === logLevel.WARN) logger.warn(line, fields);
      else if (entry.level === logLevel.INFO) logger.info(line, fields);
      else logger.debug(line, fields);
    },
  });
}

const keyDecoder = new TextDecoder();

/** Kafka-style partition key as text (null for a message without key). */
export function keyText(key: Uint8Array | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  // Lossy decode: a key is evidence, not data; PostgreSQL text cannot hold NUL.
  const text = keyDecoder.decode(key);
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}
