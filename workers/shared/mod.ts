/** Code shared by the workers: logging, config, errors, database and the top-level handler. */
export * from "./log.ts";
export * from "./errors.ts";
export * from "./config.ts";
export * from "./db.ts";
export * from "./main.ts";
export * from "./backoff.ts";
export * from "./zod_issues.ts";
