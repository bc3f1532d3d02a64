/**
 * Compose runs the pipeline the native stack runs and tests: each service of the manifest
 * (stack/services.json, profile dev) has a compose service with the same command, port and
 * health check (the definition: tests/compose/parity.ts), with one Kafka node (the default) and
 * with three (KAFKA_NODES=3, the profile `cluster`). A manifest service added without a compose
 * counterpart fails here.
 */
import assert from "node:assert/strict";
import {
  clusterProblems,
  COMPOSE_ONLY,
  devServices,
  expectedServices,
  parityProblems,
  type ParityRun,
  parityRun,
} from "./parity.ts";
import {
  argv,
  type Compose,
  envExample,
  loadCompose,
  loadManifest,
  type ManifestService,
  type Service,
} from "./support.ts";

const single = (): ParityRun => parityRun(envExample(), 1);
const cluster = (): ParityRun => parityRun(envExample(), 3);

/** Every problem of both checks in `run`, one per line. */
const allProblems = (manifest: ManifestService[], compose: Compose, run: ParityRun): string =>
  [...parityProblems(manifest, compose, run), ...clusterProblems(manifest, compose, run)].join(
    "\n",
  );

Deno.test("each manifest service's command, port and health check match its compose service", () => {
  const manifest = loadManifest();
  const compose = loadCompose();
  assert.ok(devServices(manifest).length >= 4, "the manifest lists the native services");
  for (const [what, run] of [["one node", single()], ["three nodes", cluster()]] as const) {
    const problems = [
      ...parityProblems(manifest, compose, run),
      ...clusterProblems(manifest, compose, run),
    ];
    assert.deepEqual(
      problems,
      [],
      `${what}: compose and stack/services.json differ:\n  ${problems.join("\n  ")}`,
    );
  }
  for (const name of Object.keys(COMPOSE_ONLY)) {
    assert.ok(compose.services[name], `${name} is listed as compose-only but compose lacks it`);
  }
});

Deno.test("with KAFKA_NODES=3 the manifest's three Kafka nodes are compose services on their ports", () => {
  const nodes = expectedServices(loadManifest(), cluster())
    .filter((entry) => entry.svc.replicas === "KAFKA_NODES")
    .map((entry) => [entry.name, entry.port?.value]);
  assert.deepEqual(nodes, [["kafka", 9092], ["kafka-2", 9094], ["kafka-3", 9096]]);
  const compose = loadCompose();
  for (const [name] of nodes) assert.ok(compose.services[String(name)], `${name} in compose`);
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
    assert.match(allProblems(drifted, compose, single()), expected, what);
  }
  const extra = structuredClone(compose);
  extra.services.sidecar = { image: "busybox:1.37" };
  assert.match(allProblems(manifest, extra, single()), /sidecar: in docker-compose\.yml but not/);
});

Deno.test("the parity check catches a drifted cluster: a missing node, a port, a quorum, a client", () => {
  const manifest = loadManifest();
  const drift = (change: (compose: Compose) => void): string => {
    const compose = structuredClone(loadCompose());
    change(compose);
    return allProblems(manifest, compose, cluster());
  };
  const node = (compose: Compose, name: string) => {
    const service = compose.services[name];
    assert.ok(service, `compose has ${name}`);
    return service;
  };
  const cases: Array<[string, (compose: Compose) => void, RegExp]> = [
    [
      "kafka-3 missing",
      (compose) => delete compose.services["kafka-3"],
      /kafka-3: in stack\/services\.json but not in docker-compose\.yml/,
    ],
    [
      "kafka-3 on node 2's port",
      (
        compose,
      ) => (node(compose, "kafka-3").ports = ["127.0.0.1:${COMPOSE_KAFKA_2_PORT:-9094}:9092"]),
      /kafka-3: publishes \[COMPOSE_KAFKA_2_PORT\] \(default 9094\), the native scheme gives KAFKA_PORT \+ 4 = 9096/,
    ],
    [
      "kafka-2 without the profile",
      (compose) => delete node(compose, "kafka-2").profiles,
      /kafka-2: compose profiles \[\], want \[cluster\]/,
    ],
    [
      "node 1 under the profile",
      (compose) => (node(compose, "kafka").profiles = ["cluster"]),
      /kafka: compose profiles \[cluster\], want \[\]/,
    ],
    [
      "a quorum of one",
      (compose) => (node(compose, "kafka-2").env_file = "docker/kafka/quorum-1.env"),
      /kafka-2: controller quorum voters "1@kafka:9093", want 1@kafka,2@kafka-2,3@kafka-3/,
    ],
    [
      "a node id twice",
      (
        compose,
      ) => ((node(compose, "kafka-3").environment as Record<string, number>).KAFKA_NODE_ID = 2),
      /kafka-3: KAFKA_NODE_ID 2, want 3/,
    ],
    [
      "a node advertising another's name",
      (compose) => ((node(compose, "kafka-3").environment as Record<string, string>)
        .KAFKA_ADVERTISED_LISTENERS = "PLAINTEXT://kafka-2:19092,PLAINTEXT_HOST://127.0.0.1:9096"),
      /kafka-3: advertises "PLAINTEXT:\/\/kafka-2:19092/,
    ],
    [
      "a client bootstrapping from node 1 only",
      (compose) => (node(compose, "producer").env_file = "docker/kafka/bootstrap-1.env"),
      /producer: KAFKA_BROKERS "kafka:19092", want every node \(kafka,kafka-2,kafka-3\)/,
    ],
    [
      "a node without the heap cap",
      (
        compose,
      ) => ((node(compose, "kafka-2").environment as Record<string, string>).KAFKA_HEAP_OPTS =
        "-Xms256m"),
      /kafka-2: KAFKA_HEAP_OPTS "-Xms256m" lacks the native heap cap -Xmx\$\{KAFKA_HEAP_MAX\}/,
    ],
    [
      "a topic job blind to the node count",
      (compose) =>
        delete (node(compose, "kafka-topics").environment as Record<string, string>).KAFKA_NODES,
      /kafka-topics: does not read KAFKA_NODES/,
    ],
    [
      "a consumer with one fixed replica",
      (compose) => (node(compose, "consumer").deploy = { replicas: 1 }),
      /consumer: deploy\.replicas "1", want \$\{CONSUMER_REPLICAS:-1\}/,
    ],
    [
      "a consumer with a container name",
      (compose) => (node(compose, "consumer").container_name = "consumer"),
      /consumer: container_name is fixed/,
    ],
  ];
  for (const [what, change, expected] of cases) {
    assert.match(drift(change), expected, what);
  }
  // Node 2's and 3's settings are unread with one node: the single-node run does not see them.
  assert.equal(
    allProblems(
      manifest,
      (() => {
        const compose = structuredClone(loadCompose());
        node(compose, "kafka-3").ports = ["127.0.0.1:${COMPOSE_KAFKA_2_PORT:-9094}:9092"];
        return compose;
      })(),
      single(),
    ),
    "",
  );
});

Deno.test("the parity check catches a drifted Superset: command, port, health check, job, setting", () => {
  const manifest = loadManifest();
  const drift = (name: string, change: (service: Service) => void): string => {
    const compose = structuredClone(loadCompose());
    const service = compose.services[name];
    assert.ok(service, `compose has ${name}`);
    change(service);
    return allProblems(manifest, compose, single());
  };
  const cases: Array<[string, string, (service: Service) => void, RegExp]> = [
    [
      "two workers",
      "superset",
      (service) => (service.command = argv(service.command).map((arg) => arg === "1" ? "2" : arg)),
      /superset: command "gunicorn [^"]*--workers 2[^"]*", manifest "gunicorn [^"]*--workers 1/,
    ],
    [
      "another host port",
      "superset",
      (service) => (service.ports = ["127.0.0.1:${AIRFLOW_PORT:-8080}:8088"]),
      /superset: publishes \[AIRFLOW_PORT\], manifest port \[SUPERSET_PORT\]/,
    ],
    [
      "no health check",
      "superset",
      (service) => delete service.healthcheck,
      /superset: health "none", manifest "http \/health on SUPERSET_PORT"/,
    ],
    [
      "another health path",
      "superset",
      (
        service,
      ) => (service.healthcheck = { test: ["CMD", "curl", "-f", "http://127.0.0.1:8088/"] }),
      /superset: health "http \/ on SUPERSET_PORT", manifest "http \/health on SUPERSET_PORT"/,
    ],
    [
      "the prepare job restarted as a daemon",
      "superset-prepare",
      (service) => (service.restart = "unless-stopped"),
      /superset-prepare: manifest kind job, compose restart "unless-stopped"/,
    ],
    [
      "another script",
      "superset-prepare",
      (service) => (service.command = ["python", "stack/superset/import_dashboards.py"]),
      /superset-prepare: command "python stack\/superset\/import_dashboards\.py"/,
    ],
    [
      "a native setting missing",
      "superset-prepare",
      (service) => delete (service.environment as Record<string, string>).SUPERSET_METADATA_URI,
      /superset-prepare: compose environment lacks SUPERSET_METADATA_URI/,
    ],
  ];
  for (const [what, name, change, expected] of cases) {
    assert.match(drift(name, change), expected, what);
  }
});
