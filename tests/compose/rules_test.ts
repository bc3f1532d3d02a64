/**
 * The house rules for docker-compose.yml, checked on the file itself: pinned
 * images, a health check for every stateful or serving service, conditioned dependencies,
 * loopback-only ports, every variable from .env.example with its default and listed in the
 * header, named volumes for state, and Deno workers with explicit permissions only.
 */
import assert from "node:assert/strict";
import {
  argv,
  asRecord,
  bindSources,
  type Compose,
  COMPOSE_FILE,
  effectiveArgv,
  envExample,
  envFiles,
  healthArgv,
  interpolate,
  isJob,
  loadCompose,
  namedVolumes,
  publishedPorts,
  REQUIRED_SECRETS,
  scanInterpolations,
  type Service,
  stripLaunchers,
} from "./support.ts";

const text = Deno.readTextFileSync(COMPOSE_FILE);
const compose = loadCompose(text);
const services = Object.entries(compose.services);

/** Fails with every offender at once, so one run shows the whole list. */
function assertNone(problems: string[], rule: string): void {
  assert.deepEqual(problems, [], `${rule}:\n  ${problems.join("\n  ")}`);
}

Deno.test("every image is pinned to a version tag", () => {
  const problems = services.flatMap(([name, service]) => {
    const image = String(service.image ?? "");
    if (!image) return [`${name}: no image (a built service names and tags its image)`];
    const tag = /:([^/:@]+)$/.exec(image)?.[1];
    if (!tag) return [`${name}: ${image} has no tag`];
    if (tag === "latest" || !/\d/.test(tag)) return [`${name}: ${image} is not a version tag`];
    return [];
  });
  assertNone(problems, "unpinned images");
});

/** Stateful, serving or waited-on services without a health check that queries them. */
function healthProblems(compose: Compose): string[] {
  const services = Object.entries(compose.services);
  const waitedOnHealthy = new Set(
    services.flatMap(([, service]) =>
      Object.entries(asRecord(service.depends_on))
        .filter(([, dep]) => asRecord(dep).condition === "service_healthy")
        .map(([target]) => target)
    ),
  );
  return services.flatMap(([name, service]) => {
    const stateful = namedVolumes(service).length > 0;
    const serving = publishedPorts(service).length > 0;
    if (!(stateful || serving || waitedOnHealthy.has(name)) || isJob(service)) return [];
    const test = healthArgv(service);
    if (!test) return [`${name}: no health check`];
    // A query, not a liveness guess: the program the check runs must talk to the service.
    const program = stripLaunchers(test)[0] ?? "";
    const queries = /(^|\/)(pg_isready|curl|kafka-[a-z-]+\.sh|airflow|deno)$/.test(program);
    return queries ? [] : [`${name}: health check "${test.join(" ")}" does not query the service`];
  });
}

Deno.test("every stateful or serving service has a health check that queries it", () => {
  assertNone(healthProblems(compose), "health checks");
});

Deno.test("every dependency waits on a condition: healthy, or a job completed", () => {
  const problems = services.flatMap(([name, service]) => {
    if (service.depends_on === undefined) return [];
    if (Array.isArray(service.depends_on)) return [`${name}: depends_on is a bare list`];
    return Object.entries(asRecord(service.depends_on)).flatMap(([target, dep]) => {
      const condition = asRecord(dep).condition;
      const other = compose.services[target];
      if (!other) return [`${name}: depends on unknown service ${target}`];
      if (condition === "service_healthy") {
        return healthArgv(other) ? [] : [`${name}: waits for ${target} healthy, it has no check`];
      }
      if (condition === "service_completed_successfully") {
        return isJob(other) ? [] : [`${name}: waits for ${target} to complete, it is no job`];
      }
      return [`${name}: depends on ${target} with condition ${JSON.stringify(condition)}`];
    });
  });
  assertNone(problems, "unconditioned dependencies");
});

/** Published ports outside 127.0.0.1, and host networking. */
const loopbackProblems = (compose: Compose): string[] =>
  Object.entries(compose.services).flatMap(([name, service]) => [
    ...publishedPorts(service)
      .filter((port) => port.hostIp !== "127.0.0.1")
      .map((port) => `${name}: ${port.hostIp || "all interfaces"}:${port.published}`),
    ...(service.network_mode === "host" ? [`${name}: network_mode host`] : []),
  ]);

Deno.test("every published port is bound to 127.0.0.1", () => {
  assertNone(loopbackProblems(compose), "ports outside 127.0.0.1");
});

/** Variables of `text` that are not .env.example settings with their default, or secrets with one. */
function variableProblems(text: string): string[] {
  const settings = envExample();
  const { uses, stray } = scanInterpolations(text);
  const problems = [
    ...stray.map((where) => `stray $ at ${where}`),
    ...uses.flatMap((use) => {
      if (REQUIRED_SECRETS.has(use.name)) {
        if (use.operator !== ":?") return [`\${${use.name}} is a secret: use :? (no default)`];
        return settings.get(use.name) ? [`.env.example gives the secret ${use.name} a value`] : [];
      }
      const fallback = settings.get(use.name);
      if (fallback === undefined) return [`\${${use.name}} is not in .env.example`];
      if (use.operator !== ":-") return [`\${${use.name}} has no :- default`];
      if (use.default !== fallback) {
        return [`\${${use.name}:-${use.default}}: .env.example says ${JSON.stringify(fallback)}`];
      }
      return [];
    }),
  ];
  return [...new Set(problems)];
}

Deno.test("every ${VAR} is a setting of .env.example with its default, or a required secret", () => {
  const { uses } = scanInterpolations(text);
  assert.ok(uses.length > 0, "compose reads its settings from variables");
  assert.ok(uses.some((use) => REQUIRED_SECRETS.has(use.name)), "compose reads the secrets");
  assertNone(variableProblems(text), "variables");
  // Every secret `make secrets` prints is one compose requires, and none goes unused.
  const required = new Set(uses.filter((use) => use.operator === ":?").map((use) => use.name));
  assert.ok(REQUIRED_SECRETS.has("SUPERSET_SECRET_KEY"), "secrets.py's GENERATED read");
  assert.ok(REQUIRED_SECRETS.has("COMPOSE_SUPERSET_ADMIN_PASSWORD"), "and COMPOSE_GENERATED");
  assertNone(
    [...REQUIRED_SECRETS].filter((name) => !required.has(name)).map((name) => `${name}: unused`),
    "secrets make secrets prints",
  );
});

Deno.test("the rules catch Superset drifts: an open port, no health check, a constant secret", () => {
  const drifted = (change: (superset: Service) => void): Compose => {
    const copy = structuredClone(compose);
    const superset = copy.services.superset;
    assert.ok(superset, "compose has a superset service");
    change(superset);
    return copy;
  };
  assert.deepEqual(
    loopbackProblems(drifted((superset) => (superset.ports = ["${SUPERSET_PORT:-8088}:8088"]))),
    ["superset: all interfaces:${SUPERSET_PORT:-8088}"],
  );
  assert.deepEqual(
    loopbackProblems(
      drifted((superset) => (superset.ports = ["0.0.0.0:${SUPERSET_PORT:-8088}:8088"])),
    ),
    ["superset: 0.0.0.0:${SUPERSET_PORT:-8088}"],
  );
  assert.deepEqual(healthProblems(drifted((superset) => delete superset.healthcheck)), [
    "superset: no health check",
  ]);
  assert.deepEqual(
    healthProblems(drifted((superset) => (superset.healthcheck = { test: ["CMD", "true"] }))),
    ['superset: health check "true" does not query the service'],
  );
  const constant = text.replace(
    "${SUPERSET_SECRET_KEY:?run make secrets}",
    "${SUPERSET_SECRET_KEY:-thisISaSECRET_1234}",
  );
  assert.notEqual(constant, text, "compose reads SUPERSET_SECRET_KEY as a required secret");
  assert.ok(
    variableProblems(constant).includes("${SUPERSET_SECRET_KEY} is a secret: use :? (no default)"),
    variableProblems(constant).join("\n"),
  );
  const admin = text.replace(
    "${COMPOSE_SUPERSET_ADMIN_PASSWORD:?run make secrets}",
    "${COMPOSE_SUPERSET_ADMIN_PASSWORD:-admin}",
  );
  assert.notEqual(admin, text, "compose requires the Superset admin password");
  assert.ok(
    variableProblems(admin).includes(
      "${COMPOSE_SUPERSET_ADMIN_PASSWORD} is a secret: use :? (no default)",
    ),
  );
});

Deno.test("the header lists every variable and its default", () => {
  const header = /^(?:#.*\n)+/.exec(text)?.[0] ?? "";
  const listed = new Map(
    [...header.matchAll(/^#\s+([A-Z][A-Z0-9_]*)=(\S*)/gm)].map((m) => [m[1], m[2] ?? ""]),
  );
  // A required secret is listed with an empty value (its `:?` text is an error message).
  const used = new Map(
    scanInterpolations(text).uses.map((use) => [
      use.name,
      REQUIRED_SECRETS.has(use.name) ? "" : use.default ?? "",
    ]),
  );
  const problems = [
    ...[...used].filter(([name, value]) => listed.get(name) !== value)
      .map(([name, value]) => `${name}=${value} is not in the header`),
    ...[...listed.keys()].filter((name) => name && !used.has(name))
      .map((name) => `${name} is in the header but compose does not use it`),
  ];
  assertNone(problems, "header");
  assert.match(header, /make secrets/, "the header names the secrets generator");
  assert.match(header, /login/i, "the header documents the Airflow login");
});

Deno.test("state lives in named volumes; bind mounts point at files of the repository", () => {
  const declared = new Set(Object.keys(asRecord(compose.volumes)));
  const used = new Set(services.flatMap(([, service]) => namedVolumes(service)));
  const problems = [
    ...[...used].filter((name) => !declared.has(name)).map((name) => `${name}: not declared`),
    ...[...declared].filter((name) => !used.has(name)).map((name) => `${name}: never mounted`),
    ...services.flatMap(([name, service]) =>
      bindSources(service).flatMap((source) => {
        try {
          Deno.statSync(source);
          return [];
        } catch {
          return [`${name}: bind mount ${source} does not exist`];
        }
      })
    ),
  ];
  // The data directories of the stateful images live on named volumes, not in containers; each
  // Kafka node on its own (a node's log and KRaft metadata are its alone).
  const dataDirs: Array<[string, string]> = [
    ["postgres", "/var/lib/postgresql/data"],
    ["kafka", "/var/lib/kafka/data"],
    ["kafka-2", "/var/lib/kafka/data"],
    ["kafka-3", "/var/lib/kafka/data"],
  ];
  const owners = new Map<string, string>();
  for (const [name, path] of dataDirs) {
    const service = compose.services[name];
    const volume = service === undefined
      ? undefined
      : namedVolumes(service).find((volume) =>
        (service.volumes as unknown[]).includes(`${volume}:${path}`)
      );
    if (volume === undefined) problems.push(`${name}: ${path} is not on a named volume`);
    else if (owners.has(volume)) {
      problems.push(`${name}: shares ${volume} with ${owners.get(volume)}`);
    } else owners.set(volume, name);
  }
  assertNone(problems, "volumes");
});

Deno.test("env files exist for each Kafka node count compose supports (1 and 3), all of them used", () => {
  const used = new Set<string>();
  const problems = services.flatMap(([name, service]) =>
    envFiles(service).flatMap((file) =>
      ["1", "3"].flatMap((nodes) => {
        const path = interpolate(file, new Map([...envExample(), ["KAFKA_NODES", nodes]]));
        used.add(path);
        try {
          Deno.statSync(path);
          return [];
        } catch {
          return [`${name}: env file ${path} (KAFKA_NODES=${nodes}) does not exist`];
        }
      })
    )
  );
  for (const entry of Deno.readDirSync("docker/kafka")) {
    const path = `docker/kafka/${entry.name}`;
    if (entry.name.endsWith(".env") && !used.has(path)) {
      problems.push(`${path}: no service reads it`);
    }
  }
  assert.ok(used.size >= 4, "the Kafka nodes and clients read env files");
  assertNone(problems, "env files");
});

Deno.test("Deno services run a deno.json task or script with explicit permissions, never -A", () => {
  const tasks =
    (JSON.parse(Deno.readTextFileSync("deno.json")) as { tasks?: Record<string, string> })
      .tasks ?? {};
  const allowAll = (args: string[]) => args.some((arg) => arg === "-A" || arg === "--allow-all");
  const problems = services.flatMap(([name, service]) => {
    const args = stripLaunchers(effectiveArgv(service));
    if (args[0] !== "deno") return [];
    if (args[1] === "task") {
      const task = tasks[args[2] ?? ""];
      if (task === undefined) return [`${name}: deno task ${args[2]} is not in deno.json`];
      const taskArgs = argv(task);
      if (allowAll(taskArgs)) return [`${name}: task ${args[2]} grants every permission`];
      return taskArgs.some((arg) => arg.startsWith("--allow-"))
        ? []
        : [`${name}: task ${args[2]} has no explicit --allow-* flags`];
    }
    if (args[1] === "run") {
      return allowAll(args) ? [`${name}: deno run -A`] : [];
    }
    return [`${name}: runs "deno ${args[1]}", not a task or a script`];
  });
  assertNone(problems, "Deno permissions");
});

Deno.test("the shell scripts compose runs parse", async () => {
  const scripts: string[][] = [];
  for await (const entry of Deno.readDir("docker")) {
    if (!entry.isDirectory) continue;
    for await (const file of Deno.readDir(`docker/${entry.name}`)) {
      if (file.name.endsWith(".sh")) scripts.push([`docker/${entry.name}/${file.name}`]);
    }
  }
  for (const [, service] of services) {
    const args = effectiveArgv(service);
    const at = args.indexOf("-c");
    if (/(^|\/)(ba)?sh$/.test(args[0] ?? "") && at !== -1 && args[at + 1]) {
      // Compose turns $$ into $ before the shell sees the script.
      scripts.push(["-c", (args[at + 1] ?? "").replaceAll("$$", "$")]);
    }
  }
  assert.ok(scripts.length >= 2, "docker/ scripts and inline scripts found");
  for (const script of scripts) {
    const out = await new Deno.Command("bash", { args: ["-n", ...script], stderr: "piped" })
      .output();
    assert.ok(out.success, `bash -n ${script[0]}: ${new TextDecoder().decode(out.stderr)}`);
  }
});
