/**
 * What the compose checks read and how they compare: docker-compose.yml (parsed with YAML merge
 * keys, as Compose does), .env.example, versions.env, the services manifest, and the
 * normalisation that makes a native command and a container command comparable.
 * Pure functions over files: no Docker engine, no service, no network.
 */
import { parse } from "yaml";

export const COMPOSE_FILE = "docker-compose.yml";
export const MANIFEST_FILE = "stack/services.json";
export const SCHEMA_FILE = "tests/compose/compose-spec.json";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Service = { [key: string]: Json };
export type Compose = { [key: string]: Json } & { services: { [name: string]: Service } };

/** One entry of stack/services.json. */
export type ManifestService = {
  name: string;
  kind: "daemon" | "job";
  command: string[];
  port?: string;
  health?: string[];
  env?: Record<string, string>;
  profiles?: string[];
  enabled_by?: string;
  /** The setting that says how many copies run (KAFKA_NODES, CONSUMER_REPLICAS). */
  replicas?: string;
  /** Copy i listens on its port setting + port_stride * (i - 1). */
  port_stride?: number;
};

/** KEY=VALUE lines as stack/stackctl/config.py reads them (comments skipped, outer quotes removed). */
export function readEnvFile(path: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of Deno.readTextFileSync(path).split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || !line.includes("=")) continue;
    const at = line.indexOf("=");
    let value = line.slice(at + 1).trim();
    if (value.length >= 2 && value[0] === value.at(-1) && (value[0] === "'" || value[0] === '"')) {
      value = value.slice(1, -1);
    }
    values.set(line.slice(0, at).trim(), value);
  }
  return values;
}

/** Names in a tuple of stack/stackctl/secrets.py: GENERATED (per instance) or COMPOSE_GENERATED. */
export function secretNames(
  tuple: "GENERATED" | "COMPOSE_GENERATED",
  path = "stack/stackctl/secrets.py",
): string[] {
  const body = new RegExp(`^${tuple} = \\(([^)]*)\\)`, "m").exec(Deno.readTextFileSync(path))?.[1];
  if (body === undefined) throw new Error(`Reading the secrets: ${path} has no ${tuple} tuple`);
  return [...body.matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1] ?? "");
}

/**
 * Secrets compose requires (`${VAR:?run make secrets}`): no default, none in .env.example. The
 * ones `make secrets` prints: every secret an instance generates, plus the compose-only ones
 * (the Superset login's password).
 */
export const REQUIRED_SECRETS: ReadonlySet<string> = new Set([
  ...secretNames("GENERATED"),
  ...secretNames("COMPOSE_GENERATED"),
]);

export const envExample = (): Map<string, string> => readEnvFile(".env.example");
export const versions = (): Map<string, string> => readEnvFile("versions.env");

/** Reads a key that must exist. */
export function required(map: Map<string, string>, key: string, where: string): string {
  const value = map.get(key);
  if (value === undefined) throw new Error(`${where} lacks ${key}`);
  return value;
}

/** docker-compose.yml as Compose sees it before interpolation: anchors and `<<` merges resolved. */
export function loadCompose(text = Deno.readTextFileSync(COMPOSE_FILE)): Compose {
  const doc = parse(text, { merge: true }) as Compose;
  if (typeof doc !== "object" || doc === null || typeof doc.services !== "object") {
    throw new Error(`${COMPOSE_FILE} has no services`);
  }
  return doc;
}

export function loadManifest(): ManifestService[] {
  return (JSON.parse(Deno.readTextFileSync(MANIFEST_FILE)) as { services: ManifestService[] })
    .services;
}

// --- interpolation --------------------------------------------------------------------------

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}` and `$$`. */
const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)?/g;

/** One `${...}` use in the compose text. */
export type VariableUse = {
  name: string;
  operator: string | undefined;
  default: string | undefined;
};

/**
 * Every interpolation in `text`, plus the `$` signs Compose would misread: a bare `$NAME`
 * (interpolated too, easy to mistake for a shell variable) or a lone `$`.
 */
export function scanInterpolations(text: string): { uses: VariableUse[]; stray: string[] } {
  const uses: VariableUse[] = [];
  const stray: string[] = [];
  for (const match of text.matchAll(INTERPOLATION)) {
    if (match[0] === "$$") continue;
    if (match[1] !== undefined) {
      uses.push({ name: match[1], operator: match[2], default: match[3] });
    } else {
      const line = text.slice(0, match.index).split("\n").length;
      stray.push(`line ${line}: "${match[0]}" (write $$ for a literal $)`);
    }
  }
  return { uses, stray };
}

/** Compose's interpolation of one string with `env` (unset and empty both take `:-` defaults). */
export function interpolate(value: string, env: Map<string, string>): string {
  return value.replace(INTERPOLATION, (whole, name?: string, op?: string, fallback?: string) => {
    if (whole === "$$") return "$";
    if (name === undefined) throw new Error(`Stray $ in ${value}`);
    const current = env.get(name);
    if (op === ":-") return current ? current : fallback ?? "";
    if (op === "-") return current ?? fallback ?? "";
    if ((op === ":?" && !current) || (op === "?" && current === undefined)) {
      throw new Error(`Required variable ${name} is missing: ${fallback}`);
    }
    return current ?? "";
  });
}

/** The whole document with every string interpolated (keys are not interpolated by Compose). */
export function interpolateDeep(value: Json, env: Map<string, string>): Json {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, env));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateDeep(item, env)]),
    );
  }
  return value;
}

// --- reading services ---------------------------------------------------------------------------

export const asRecord = (value: Json | undefined): { [key: string]: Json } =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};

/** A command/entrypoint/test as argv: lists as given, strings split on blanks (no quoting). */
export function argv(value: Json | undefined): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") return value.trim().split(/\s+/).filter(Boolean);
  return [];
}

/** The environment of a service as a map (dict or KEY=VALUE list form). */
export function environment(service: Service): Map<string, string> {
  const env = service.environment;
  const map = new Map<string, string>();
  if (Array.isArray(env)) {
    for (const item of env.map(String)) {
      const at = item.indexOf("=");
      map.set(at === -1 ? item : item.slice(0, at), at === -1 ? "" : item.slice(at + 1));
    }
  } else {
    for (const [key, value] of Object.entries(asRecord(env))) map.set(key, String(value ?? ""));
  }
  return map;
}

/** The env files a service reads (`env_file`: a path, a list, or `{path}` entries), as written. */
export function envFiles(service: Service): string[] {
  const files = Array.isArray(service.env_file) ? service.env_file : [service.env_file];
  return files.flatMap((file) => {
    if (typeof file === "string") return [file];
    const path = asRecord(file).path;
    return typeof path === "string" ? [path] : [];
  });
}

/**
 * The environment a container of the service starts with under `settings`: its env files (paths
 * interpolated, as Compose does), overridden by `environment` (values interpolated). Throws when
 * an env file does not exist.
 */
export function containerEnvironment(
  service: Service,
  settings: Map<string, string>,
): Map<string, string> {
  const env = new Map<string, string>();
  for (const file of envFiles(service)) {
    const path = interpolate(file, settings);
    let values: Map<string, string>;
    try {
      values = readEnvFile(path);
    } catch {
      throw new Error(`Reading env file ${path} (${file}): it does not exist`);
    }
    for (const [key, value] of values) env.set(key, value);
  }
  for (const [key, value] of environment(service)) env.set(key, interpolate(value, settings));
  return env;
}

/** A published port: the host address, the host side (as written) and the container port. */
export type Published = { hostIp: string; published: string; target: string };

/** Short (`[IP:]HOST:CONTAINER[/proto]`) and long (`{target, published, host_ip}`) forms. */
export function publishedPorts(service: Service): Published[] {
  const ports = Array.isArray(service.ports) ? service.ports : [];
  return ports.map((port) => {
    if (typeof port === "object" && port !== null && !Array.isArray(port)) {
      return {
        hostIp: String(port.host_ip ?? ""),
        published: String(port.published ?? ""),
        target: String(port.target ?? ""),
      };
    }
    // Split on the colons outside ${...}: the host side may be ${VAR:-default}.
    const parts = String(port).replace(/\/\w+$/, "").match(/(\$\{[^}]*\}|[^:])+/g) ?? [];
    const [a = "", b = "", c] = parts;
    return c === undefined
      ? { hostIp: "", published: a, target: b }
      : { hostIp: a, published: b, target: c };
  });
}

/** The variable a published host port is read from: `${PGPORT:-5432}` → PGPORT. */
export function portVariable(published: string): string | undefined {
  return /^\$\{([A-Z0-9_]+)(?::?-[^}]*)?\}$/.exec(published)?.[1];
}

/** The health check as argv, without Compose's CMD/CMD-SHELL marker; undefined when none. */
export function healthArgv(service: Service): string[] | undefined {
  const check = asRecord(service.healthcheck);
  if (check.disable === true || check.test === undefined) return undefined;
  const test = argv(check.test);
  if (test[0] === "NONE") return undefined;
  if (test[0] === "CMD") return test.slice(1);
  if (test[0] === "CMD-SHELL") return argv(test.slice(1).join(" "));
  return test;
}

/** True for a one-shot job (it is expected to exit, so it is not restarted). */
export const isJob = (service: Service): boolean => service.restart === "no";

/** Named volumes a service mounts (short `name:/path[:ro]` or long `{type: volume}` form). */
export function namedVolumes(service: Service): string[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  const names: string[] = [];
  for (const volume of volumes) {
    if (typeof volume === "string") {
      const source = volume.split(":")[0] ?? "";
      if (source && !source.startsWith(".") && !source.startsWith("/") && volume.includes(":")) {
        names.push(source);
      }
    } else {
      const long = asRecord(volume);
      if (long.type === "volume" && typeof long.source === "string") names.push(long.source);
    }
  }
  return names;
}

/** Host files and folders a service bind-mounts (short form `./path:/target`, long `bind`). */
export function bindSources(service: Service): string[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  return volumes.flatMap((volume) => {
    if (typeof volume === "string") {
      const source = volume.split(":")[0] ?? "";
      return source.startsWith(".") || source.startsWith("/") ? [source] : [];
    }
    const long = asRecord(volume);
    return long.type === "bind" && typeof long.source === "string" ? [long.source] : [];
  });
}

// --- normalisation: a native command and a container command, made comparable -------------------

/** `${VAR:-x}`, `${VAR-x}`, `$${VAR}` (expanded in the container) and `$VAR` all become `${VAR}`. */
export function normalizeVariables(arg: string): string {
  return arg
    .replace(/\$\$\{([A-Za-z_]\w*)\}/g, "${$1}")
    .replace(/\$\{([A-Za-z_]\w*)(?::?[-?][^}]*)?\}/g, "${$1}")
    .replace(/\$\$?([A-Za-z_]\w*)/g, "${$1}");
}

/** The program's name: `${PG_BIN}/pg_isready` → pg_isready, `${AIRFLOW_BIN}` → airflow. */
export function programName(program: string): string {
  const bin = /^\$\{([A-Z]+)_BIN\}$/.exec(program);
  if (bin?.[1]) return bin[1].toLowerCase();
  return program.split("/").at(-1) ?? program;
}

/**
 * Drops what only launches the real program: `env A=B ...`, leading `A=B` assignments,
 * `dumb-init --` / `tini --`, and shell redirections.
 */
export function stripLaunchers(args: string[]): string[] {
  let rest = args.filter((arg) => !/^\d?>/.test(arg));
  for (;;) {
    const head = rest[0];
    if (head === undefined) return rest;
    const name = programName(head);
    if (name === "env" || /^[A-Za-z_]\w*=/.test(head)) {
      rest = rest.slice(1);
    } else if ((name === "dumb-init" || name === "tini") && rest[1] === "--") {
      rest = rest.slice(2);
    } else if (name === "dumb-init" || name === "tini") {
      rest = rest.slice(1);
    } else {
      return rest;
    }
  }
}

const positionals = (args: string[]): string[] => {
  const words: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("-")) break;
    words.push(arg);
  }
  return words;
};

/** gunicorn's arguments without the listen address, which differs by design (127.0.0.1 natively). */
function withoutBind(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--bind" || arg === "-b") i++;
    else if (!arg.startsWith("--bind=")) kept.push(arg);
  }
  return kept;
}

/**
 * What a command runs, as one comparable string:
 *   deno task NAME ARGS        the task (its --allow-* flags live in deno.json, shared)
 *   deno run FLAGS SCRIPT ARGS the permission flags (sorted) and the script
 *   airflow SUBCOMMAND         / dbt SUBCOMMAND: listen addresses and ports differ by design
 *   gunicorn ARGS              every argument but the listen address (--bind)
 *   anything else              the whole argv
 * Variables are normalised first, so `${VAR}` and `${VAR:-default}` compare equal, and a path
 * below `${PROJECT_DIR}/` is written relative to it (images run from their copy of the project).
 */
export function canonicalCommand(args: string[]): string {
  const [program = "", ...rest] = stripLaunchers(args.map(normalizeVariables)).map((arg) =>
    arg.replace(/^\$\{PROJECT_DIR\}\//, "")
  );
  const name = programName(program);
  if (name === "gunicorn") return [name, ...withoutBind(rest)].join(" ");
  if (name === "deno" && rest[0] === "task") return ["deno", "task", ...rest.slice(1)].join(" ");
  if (name === "deno" && rest[0] === "run") {
    // Flags before the script, sorted (they are all `--name[=value]` tokens), then the script.
    const runArgs = rest.slice(1);
    const script = runArgs.findIndex((arg) => !arg.startsWith("-"));
    const flags = (script === -1 ? runArgs : runArgs.slice(0, script)).sort();
    return ["deno", "run", ...flags, ...(script === -1 ? [] : runArgs.slice(script))].join(" ");
  }
  if (name === "airflow" || name === "dbt") return [name, ...positionals(rest)].join(" ");
  return [name, ...rest].join(" ");
}

/**
 * What a health check asks, as one comparable string:
 *   pg_isready                       PostgreSQL accepts connections
 *   kafka bootstrap query            a Kafka client bootstraps against the broker (the native
 *                                    check is a kafkajs script, the image's is Kafka's own tool)
 *   http PATH on PORT                an HTTP GET that must succeed; PORT is the variable of the
 *                                    published port (`portOf` maps a container port to it)
 *   anything else                    the whole argv, variables normalised
 */
export function canonicalHealth(
  args: string[],
  portOf: (port: string) => string = (port) => port,
): string {
  const stripped = stripLaunchers(args.map(normalizeVariables));
  const name = programName(stripped[0] ?? "");
  if (name === "pg_isready") return "pg_isready";
  if (
    stripped.some((arg) => arg.endsWith("stack/kafka_health.ts")) ||
    /^kafka-(broker-api-versions|topics|metadata-quorum|cluster)\.sh$/.test(name)
  ) {
    return "kafka bootstrap query";
  }
  if (name === "curl" || name === "wget") {
    const url = stripped.find((arg) => /^https?:\/\//.test(arg));
    const parsed = url ? /^https?:\/\/[^/:]+(?::([^/]+))?(\/.*)?$/.exec(url) : null;
    if (parsed) {
      const port = normalizeVariables(parsed[1] ?? "80");
      const portRef = /^\$\{(\w+)\}$/.exec(port)?.[1] ?? portOf(port);
      return `http ${parsed[2] ?? "/"} on ${portRef}`;
    }
  }
  return [name, ...stripped.slice(1)].join(" ");
}

/** How the airflow image runs `command` when its entrypoint is kept: as `airflow <command>`. */
export function effectiveArgv(service: Service): string[] {
  const command = argv(service.command);
  const entrypoint = argv(service.entrypoint);
  if (entrypoint.length > 0) return [...entrypoint, ...command];
  const image = String(service.image ?? "");
  const viaAirflowEntrypoint = /(^|\/)airflow:/.test(image) &&
    !["bash", "python", "airflow"].includes(command[0] ?? "");
  return viaAirflowEntrypoint ? ["airflow", ...command] : command;
}
