/**
 * Compose runs the pipeline the native stack runs and tests: each service of the manifest
 * (stack/services.json, profile dev) has a compose service with the same command, port and
 * health check (the definition: tests/compose/parity.ts). A manifest service added without a
 * compose counterpart fails here.
 */
import assert from "node:assert/strict";
import { COMPOSE_ONLY, devServices, parityProblems } from "./parity.ts";
import { loadCompose, loadManifest, type ManifestService } from "./support.ts";

Deno.test("each manifest service's command, port and health check match its compose service", () => {
  const manifest = loadManifest();
  const compose = loadCompose();
  assert.ok(devServices(manifest).length >= 4, "the manifest lists the native services");
  const problems = parityProblems(manifest, compose);
  assert.deepEqual(
    problems,
    [],
    `compose and stack/services.json differ:\n  ${problems.join("\n  ")}`,
  );
  for (const name of Object.keys(COMPOSE_ONLY)) {
    assert.ok(compose.services[name], `${name} is listed as compose-only but compose lacks it`);
  }
});

Deno.test("the parity check catches a drifted command, port, health check or service", () => {
  const compose = loadCompose();
  const manifest = loadManifest();
  const edit = (name: string, change: Partial<ManifestService>): ManifestService[] =>
    manifest.map((svc) => (svc.name === name ? { ...svc, ...change } : svc));
  const cases: Array<[string, ManifestService[], RegExp]> = [
    ["a new service", [...manifest, {
      name: "reporter",
      kind: "daemon",
      command: ["deno", "task", "reporter"],
    }], /reporter: in stack\/services\.json but not in docker-compose\.yml/],
    [
      "another task",
      edit("migrate", { command: ["deno", "task", "migrate-v2"] }),
      /migrate: command "deno task migrate", manifest "deno task migrate-v2"/,
    ],
    [
      "a wider permission",
      edit("kafka-topics", { command: ["deno", "run", "--allow-all", "stack/kafka_topics.ts"] }),
      /kafka-topics: command/,
    ],
    [
      "another port",
      edit("postgres", { port: "PG_HOST_PORT" }),
      /postgres: publishes \[PGPORT\], manifest port \[PG_HOST_PORT\]/,
    ],
    [
      "another health check",
      edit("kafka", { health: ["curl", "--fail", "http://127.0.0.1:${KAFKA_PORT}/"] }),
      /kafka: health "kafka bootstrap query", manifest "http \/ on KAFKA_PORT"/,
    ],
    ["a daemon turned job", edit("kafka", { kind: "job" }), /kafka: manifest kind job/],
    [
      "a native-only setting",
      edit("migrate", { env: { MIGRATE_LOCK_TIMEOUT_MS: "1000" } }),
      /migrate: compose environment lacks MIGRATE_LOCK_TIMEOUT_MS/,
    ],
  ];
  for (const [what, drifted, expected] of cases) {
    assert.match(parityProblems(drifted, compose).join("\n"), expected, what);
  }
  const extra = structuredClone(compose);
  extra.services.sidecar = { image: "busybox:1.37" };
  assert.match(
    parityProblems(manifest, extra).join("\n"),
    /sidecar: in docker-compose\.yml but not/,
  );
});
