/**
 * Code shared by the workers, the only module they import from here: logging, config, errors
 * (retriable vs fatal, data errors), database, COPY escaping, signal handling, the event
 * contract, Kafka clients and the top-level handler.
 */
export * from "./log.ts";
export * from "./errors.ts";
export * from "./config.ts";
export * from "./db.ts";
export * from "./copy.ts";
export * from "./shutdown.ts";
export * from "./events.ts";
export * from "./kafka.ts";
export * from "./main.ts";
export * from "./backoff.ts";
export * from "./zod_issues.ts";
