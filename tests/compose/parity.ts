/**
 * Parity between the services manifest (what `make up` and `make test` run natively) and
 * docker-compose.yml: the definition the compose tests apply, kept apart so a test can show it
 * catches drift. Per manifest service of the `dev` profile, the compose service of the same name:
 *   - exists, and is a one-shot job (restart "no") exactly when the manifest says kind "job";
 *   - runs the same command (canonicalCommand: the deno task, the deno script with its sorted
 *     permission flags, the airflow/dbt subcommand); postgres and kafka are exempt, their images
 *     start their own server binaries;
 *   - publishes exactly the manifest's port variable on the host side (`${PGPORT:-5432}`);
 *   - has the same health check (canonicalHealth: pg_isready, a Kafka bootstrap query, an HTTP
 *     GET of the same path on the same port variable, or the same command);
 *   - sets every environment variable the manifest sets (values differ: addresses, paths).
 * A compose service the manifest lacks is an error unless COMPOSE_ONLY names it with a reason.
 * Replicated services ("replicas": SETTING) compare per run of settings (ParityRun):
 *   - one with its own port per copy (Kafka's nodes, port_stride) is one compose service per copy,
 *     named as natively (kafka, kafka-2, ...): copy 1 runs without a profile, the others under the
 *     profile `cluster`; copy i publishes the port setting's default + port_stride * (i - 1);
 *   - any other (the consumer) is one compose service with `deploy.replicas: ${SETTING:-1}`, no
 *     container_name and no host port (each replica is its own container).
 * clusterProblems adds what the nodes must agree on: node ids, the controller quorum naming every
 * node, each node's advertised addresses, the internal topics' replication, the heap cap, and the
 * clients' bootstrap list (KAFKA_BROKERS) naming every node.
 */
import {
  argv,
  asRecord,
  canonicalCommand,
  canonicalHealth,
  type Compose,
  containerEnvironment,
  effectiveArgv,
  environment,
  healthArgv,
  interpolate,
  isJob,
  type ManifestService,
  normalizeVariables,
  portVariable,
  publishedPorts,
  REQUIRED_SECRETS,
  type Service,
} from "./support.ts";

/** Compose services with no manifest entry, each with why the native stack needs none. */
export const COMPOSE_ONLY: Readonly<Record<string, string>> = {
  "airflow-init":
    "natively the Airflow services' prepare step (stack/prepare_airflow.sh) creates the metadata database, migrates it and creates the dbt pool",
  "superset-init":
    "natively the superset-prepare job's prepare step (stack/stackctl, as the superuser) creates Superset's role and metadata database",
  "dbt-docs":
    "natively `make docs` serves the dbt docs site on demand; compose keeps it up on DBT_DOCS_PORT",
};

/** Native servers compared on port and health only: their images run their own binaries. */
export const IMAGE_SERVERS: ReadonlySet<string> = new Set(["postgres", "kafka"]);

/** Services of the manifest that `make up` (profile dev) runs, so compose must run them too. */
export const devServices = (manifest: ManifestService[]): ManifestService[] =>
  manifest.filter((svc) => (svc.profiles ?? ["dev", "test"]).includes("dev"));

/** The compose profile that runs Kafka nodes 2..N. */
export const CLUSTER_PROFILE = "cluster";

/** The settings a parity run compares under: how many Kafka nodes, and the settings' values. */
export type ParityRun = { kafkaNodes: number; settings: Map<string, string> };

/** A run of `settings` (.env.example's, plus the secrets `make secrets` adds) with KAFKA_NODES. */
export const parityRun = (settings: Map<string, string>, kafkaNodes: number): ParityRun => ({
  kafkaNodes,
  settings: new Map([
    ...settings,
    ...[...REQUIRED_SECRETS].map((key) => [key, "generated"] as const),
    ["KAFKA_NODES", String(kafkaNodes)],
  ]),
});

/** One compose service a manifest service maps to: a copy of a replicated one, or itself. */
export type Expected = {
  svc: ManifestService;
  name: string;
  /** 1 for an unreplicated service and for node 1. */
  copy: number;
  /** The published port: the manifest's setting for copy 1, else the default it must have. */
  port: { setting: string; value: number } | undefined;
};

/** How many copies a replicated service runs in this run (KAFKA_NODES, else the setting). */
const copiesOf = (svc: ManifestService, run: ParityRun): number =>
  svc.replicas === "KAFKA_NODES" ? run.kafkaNodes : 1;

/** The compose services the manifest's dev services map to in `run`, copies named as natively. */
export function expectedServices(manifest: ManifestService[], run: ParityRun): Expected[] {
  return devServices(manifest).flatMap((svc) => {
    const perCopy = svc.replicas !== undefined && svc.port_stride !== undefined;
    const count = perCopy ? copiesOf(svc, run) : 1;
    return Array.from({ length: count }, (_, index) => {
      const copy = index + 1;
      const base = Number(run.settings.get(svc.port ?? "") ?? NaN);
      const port = svc.port === undefined
        ? undefined
        : { setting: svc.port, value: base + (svc.port_stride ?? 0) * index };
      return { svc, name: copy === 1 ? svc.name : `${svc.name}-${copy}`, copy, port };
    });
  });
}

/** True when compose starts the service in `run` (no profile, or the cluster's with 2+ nodes). */
function active(service: Service, run: ParityRun): boolean {
  const profiles = Array.isArray(service.profiles) ? service.profiles.map(String) : [];
  return profiles.length === 0 || (run.kafkaNodes > 1 && profiles.includes(CLUSTER_PROFILE));
}

/** The compose health check, normalised, with container ports mapped to their host variables. */
export function composeHealth(service: Service): string | undefined {
  const test = healthArgv(service);
  if (test === undefined) return undefined;
  const ports = publishedPorts(service);
  return canonicalHealth(test, (port) => {
    const published = ports.find((entry) => entry.target === port);
    return (published && portVariable(published.published)) ?? `container port ${port}`;
  });
}

/** Every difference between the manifest and the compose file in `run`; empty when they agree. */
export function parityProblems(
  manifest: ManifestService[],
  compose: Compose,
  run: ParityRun,
): string[] {
  const problems: string[] = [];
  const expected = expectedServices(manifest, run);
  for (const { svc, name, copy, port } of expected) {
    const service = compose.services[name];
    const where = `${name}:`;
    if (service === undefined) {
      problems.push(`${where} in stack/services.json but not in docker-compose.yml`);
      continue;
    }
    const profiles = Array.isArray(service.profiles) ? service.profiles.map(String) : [];
    const wantProfiles = copy === 1 ? [] : [CLUSTER_PROFILE];
    if (JSON.stringify(profiles) !== JSON.stringify(wantProfiles)) {
      problems.push(
        `${where} compose profiles [${profiles.join(", ")}], want [${wantProfiles.join(", ")}]` +
          ` (node 1 runs always, the other nodes with the profile ${CLUSTER_PROFILE})`,
      );
    }
    if ((svc.kind === "job") !== isJob(service)) {
      problems.push(
        `${where} manifest kind ${svc.kind}, compose restart ${JSON.stringify(service.restart)}` +
          ` (a job needs restart "no", a daemon a restart policy)`,
      );
    }
    if (!IMAGE_SERVERS.has(svc.name)) {
      const want = canonicalCommand(svc.command);
      const got = canonicalCommand(effectiveArgv(service));
      if (want !== got) problems.push(`${where} command "${got}", manifest "${want}"`);
    }
    problems.push(...portProblems(service, where, copy, port, run));
    if (svc.replicas !== undefined && svc.port_stride === undefined) {
      problems.push(...replicaProblems(service, where, svc.replicas));
    }
    const wantHealth = svc.health ? canonicalHealth(svc.health) : undefined;
    const gotHealth = composeHealth(service);
    if (wantHealth !== gotHealth) {
      problems.push(`${where} health "${gotHealth ?? "none"}", manifest "${wantHealth ?? "none"}"`);
    }
    const env = environment(service);
    const missing = Object.keys(svc.env ?? {}).filter((key) => !env.has(key));
    if (missing.length > 0) {
      problems.push(`${where} compose environment lacks ${missing.join(", ")} (set natively)`);
    }
  }
  const names = new Set(expected.map((entry) => entry.name));
  for (const [name, service] of Object.entries(compose.services)) {
    if (!active(service, run)) continue;
    if (!names.has(name) && COMPOSE_ONLY[name] === undefined) {
      problems.push(`${name}: in docker-compose.yml but not in stack/services.json`);
    }
  }
  return problems;
}

/** The published port of one copy: the manifest's setting (copy 1) or the native scheme's port. */
function portProblems(
  service: Service,
  where: string,
  copy: number,
  port: Expected["port"],
  run: ParityRun,
): string[] {
  const hostPorts = publishedPorts(service).map((entry) =>
    portVariable(entry.published) ?? entry.published
  );
  if (copy === 1 || port === undefined) {
    const wantPorts = port ? [port.setting] : [];
    return JSON.stringify(hostPorts) === JSON.stringify(wantPorts)
      ? []
      : [`${where} publishes [${hostPorts.join(", ")}], manifest port [${wantPorts.join(", ")}]`];
  }
  // A copy's port is derived natively (no setting of its own): compose needs a variable whose
  // default is that port (Compose has no arithmetic), documented in .env.example.
  const [variable] = hostPorts;
  const value = variable === undefined ? undefined : run.settings.get(variable);
  if (hostPorts.length !== 1 || value !== String(port.value)) {
    return [
      `${where} publishes [${hostPorts.join(", ")}]` +
      (value === undefined ? "" : ` (default ${value})`) +
      `, the native scheme gives ${port.setting} + ${
        port.value - Number(run.settings.get(port.setting))
      }` +
      ` = ${port.value}`,
    ];
  }
  return [];
}

/** A replicated service without a port per copy: `deploy.replicas` from its setting, no fixed identity. */
function replicaProblems(service: Service, where: string, setting: string): string[] {
  const problems: string[] = [];
  const replicas = String(asRecord(service.deploy).replicas ?? "");
  if (normalizeVariables(replicas) !== `\${${setting}}`) {
    problems.push(`${where} deploy.replicas "${replicas}", want \${${setting}:-1}`);
  }
  if (service.container_name !== undefined) {
    problems.push(`${where} container_name is fixed, its replicas need their own names`);
  }
  if (publishedPorts(service).length > 0) {
    problems.push(`${where} publishes a host port, which its replicas cannot share`);
  }
  return problems;
}

/** KRaft settings each node of an N-node cluster needs, the rule stack/stackctl/prepare.py writes. */
export const clusterSettings = (nodes: number): Record<string, string> => ({
  KAFKA_DEFAULT_REPLICATION_FACTOR: String(Math.min(3, nodes)),
  KAFKA_MIN_INSYNC_REPLICAS: String(Math.min(2, nodes)),
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(Math.min(3, nodes)),
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(Math.min(3, nodes)),
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(Math.min(2, nodes)),
  KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: "false",
});

/** The job that creates order_events: it picks the replication factor from KAFKA_NODES. */
export const TOPIC_JOB = "kafka-topics";

/**
 * What the Kafka nodes of `run` must agree on in compose: node ids 1..N, one controller quorum
 * naming every node at its controller listener, each node advertising its own name and host port,
 * the internal topics' replication of clusterSettings, the manifest's heap cap, every client's
 * bootstrap list naming every node, and the topic job reading KAFKA_NODES.
 */
export function clusterProblems(
  manifest: ManifestService[],
  compose: Compose,
  run: ParityRun,
): string[] {
  const nodes = expectedServices(manifest, run).filter((entry) =>
    entry.svc.replicas === "KAFKA_NODES"
  );
  if (nodes.length !== run.kafkaNodes) {
    return [`the manifest has ${nodes.length} Kafka node(s) for KAFKA_NODES=${run.kafkaNodes}`];
  }
  const problems: string[] = [];
  const wantVoters = nodes.map(({ name, copy }) => `${copy}@${name}`).join(",");
  const heap = normalizeVariables(
    nodes[0]?.svc.command.find((arg) => arg.startsWith("-Xmx")) ?? "",
  );
  for (const { name } of nodes) {
    const service = compose.services[name];
    if (service === undefined) continue; // parityProblems names it
    const env = startEnvironment(name, service, run, problems);
    if (env === undefined) continue;
    const id = env.get("KAFKA_NODE_ID");
    const copy = nodes.find((node) => node.name === name)?.copy;
    if (id !== String(copy)) problems.push(`${name}: KAFKA_NODE_ID ${id}, want ${copy}`);
    const controllerPort = /CONTROLLER:\/\/[^:,]*:(\d+)/.exec(env.get("KAFKA_LISTENERS") ?? "")
      ?.[1];
    const voters = (env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") ?? "").split(",").filter(Boolean);
    const gotVoters = voters.map((voter) => voter.replace(/:\d+$/, "")).join(",");
    const badPort = voters.filter((voter) => !voter.endsWith(`:${controllerPort}`));
    if (gotVoters !== wantVoters || badPort.length > 0) {
      problems.push(
        `${name}: controller quorum voters "${voters.join(",")}", want ${wantVoters}` +
          ` on the controller listener port ${controllerPort}`,
      );
    }
    const advertised = env.get("KAFKA_ADVERTISED_LISTENERS") ?? "";
    const hostPort = publishedPorts(service)[0]?.published;
    if (
      !advertised.includes(`//${name}:`) || !hostPort || !advertised.includes(
        `127.0.0.1:${interpolate(hostPort, run.settings)}`,
      )
    ) {
      problems.push(`${name}: advertises "${advertised}", not its own name and host port`);
    }
    for (const [key, want] of Object.entries(clusterSettings(run.kafkaNodes))) {
      if (env.get(key) !== want) {
        problems.push(`${name}: ${key}=${env.get(key) ?? "(unset)"}, want ${want}`);
      }
    }
    const heapOpts = normalizeVariables(environment(service).get("KAFKA_HEAP_OPTS") ?? "");
    if (!heap || !argv(heapOpts).includes(heap)) {
      problems.push(`${name}: KAFKA_HEAP_OPTS "${heapOpts}" lacks the native heap cap ${heap}`);
    }
  }
  const wantBrokers = nodes.map(({ name }) => name).sort().join(",");
  for (const [name, service] of Object.entries(compose.services)) {
    if (!active(service, run)) continue;
    const brokers = startEnvironment(name, service, run, problems)?.get("KAFKA_BROKERS");
    if (brokers === undefined) continue;
    const hosts = brokers.split(",").map((broker) => broker.replace(/:\d+$/, "")).sort().join(",");
    if (hosts !== wantBrokers) {
      problems.push(`${name}: KAFKA_BROKERS "${brokers}", want every node (${wantBrokers})`);
    }
  }
  const job = compose.services[TOPIC_JOB];
  if (job && normalizeVariables(environment(job).get("KAFKA_NODES") ?? "") !== "${KAFKA_NODES}") {
    problems.push(`${TOPIC_JOB}: does not read KAFKA_NODES (order_events' replication follows it)`);
  }
  return problems;
}

/** The service's container environment in `run`, or undefined with the reason in `problems`. */
function startEnvironment(
  name: string,
  service: Service,
  run: ParityRun,
  problems: string[],
): Map<string, string> | undefined {
  try {
    return containerEnvironment(service, run.settings);
  } catch (error) {
    problems.push(`${name}: ${(error as Error).message}`);
    return undefined;
  }
}
