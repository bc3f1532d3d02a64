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
 */
import {
  canonicalCommand,
  canonicalHealth,
  type Compose,
  effectiveArgv,
  environment,
  healthArgv,
  isJob,
  type ManifestService,
  portVariable,
  publishedPorts,
  type Service,
} from "./support.ts";

/** Compose services with no manifest entry, each with why the native stack needs none. */
export const COMPOSE_ONLY: Readonly<Record<string, string>> = {
  "airflow-init":
    "natively the Airflow services' prepare step (stack/prepare_airflow.sh) creates the metadata database, migrates it and creates the dbt pool",
  "dbt-docs":
    "natively `make docs` serves the dbt docs site on demand; compose keeps it up on DBT_DOCS_PORT",
};

/** Native servers compared on port and health only: their images run their own binaries. */
export const IMAGE_SERVERS: ReadonlySet<string> = new Set(["postgres", "kafka"]);

/** Services of the manifest that `make up` (profile dev) runs, so compose must run them too. */
export const devServices = (manifest: ManifestService[]): ManifestService[] =>
  manifest.filter((svc) => (svc.profiles ?? ["dev", "test"]).includes("dev"));

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

/** Every difference between the manifest and the compose file; empty when they agree. */
export function parityProblems(manifest: ManifestService[], compose: Compose): string[] {
  const problems: string[] = [];
  const native = devServices(manifest);
  for (const svc of native) {
    const service = compose.services[svc.name];
    const where = `${svc.name}:`;
    if (service === undefined) {
      problems.push(`${where} in stack/services.json but not in docker-compose.yml`);
      continue;
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
    const hostPorts = publishedPorts(service).map((port) =>
      portVariable(port.published) ?? port.published
    );
    const wantPorts = svc.port ? [svc.port] : [];
    if (JSON.stringify(hostPorts) !== JSON.stringify(wantPorts)) {
      problems.push(
        `${where} publishes [${hostPorts.join(", ")}], manifest port [${wantPorts.join(", ")}]`,
      );
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
  const names = new Set(native.map((svc) => svc.name));
  for (const name of Object.keys(compose.services)) {
    if (!names.has(name) && COMPOSE_ONLY[name] === undefined) {
      problems.push(`${name}: in docker-compose.yml but not in stack/services.json`);
    }
  }
  return problems;
}
