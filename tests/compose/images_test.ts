/**
 * One source of versions for the images too: every image tag, build argument and Dockerfile
 * ARG default agrees with versions.env; the Dockerfiles take versions only from those ARGs,
 * cache the locked dependencies at build time, copy only files that exist and that
 * .dockerignore keeps, and end as a non-root user.
 */
import assert from "node:assert/strict";
import { asRecord, loadCompose, required, versions } from "./support.ts";

const pinned = versions();
const version = (key: string): string => required(pinned, key, "versions.env");
const compose = loadCompose();
const DENO_DOCKERFILES = ["docker/deno/Dockerfile", "docker/airflow/Dockerfile"];
const SUPERSET_DOCKERFILE = "docker/superset/Dockerfile";
const DOCKERFILES = [...DENO_DOCKERFILES, SUPERSET_DOCKERFILE];

const imageOf = (name: string): string => {
  const image = compose.services[name]?.image;
  assert.equal(typeof image, "string", `compose service ${name} names its image`);
  return image as string;
};

/** `ARG NAME=default` lines (before and after FROM alike). */
function argDefaults(dockerfile: string): Map<string, string> {
  const text = Deno.readTextFileSync(dockerfile);
  return new Map(
    [...text.matchAll(/^ARG\s+([A-Z0-9_]+)=(\S+)\s*$/gm)].map((m) => [m[1] ?? "", m[2] ?? ""]),
  );
}

Deno.test("image tags match versions.env", () => {
  assert.match(
    imageOf("postgres"),
    new RegExp(`^postgres:${version("POSTGRES_MAJOR")}\\.\\d+(-[a-z]+)?$`),
    "PostgreSQL: the native major, pinned to a minor",
  );
  assert.equal(imageOf("kafka"), `apache/kafka:${version("KAFKA_VERSION")}`);
  const airflowTag = `${version("AIRFLOW_VERSION")}-python${version("PYTHON_VERSION")}`;
  for (const [name, service] of Object.entries(compose.services)) {
    const dockerfile = String(asRecord(service.build).dockerfile ?? "");
    if (dockerfile === "docker/deno/Dockerfile") {
      assert.equal(service.image, `webshop/deno-workers:${version("DENO_VERSION")}`, name);
    } else if (dockerfile === "docker/airflow/Dockerfile") {
      assert.equal(service.image, `webshop/airflow:${airflowTag}`, name);
    } else if (dockerfile === SUPERSET_DOCKERFILE) {
      assert.equal(service.image, `webshop/superset:${version("SUPERSET_VERSION")}`, name);
    } else {
      assert.equal(dockerfile, "", `${name}: unknown Dockerfile ${dockerfile}`);
    }
  }
});

Deno.test("compose build args and Dockerfile ARG defaults are versions.env's values", () => {
  const built = Object.entries(compose.services).filter(([, service]) => service.build);
  const dockerfiles = new Set(
    built.map(([, service]) => String(asRecord(service.build).dockerfile)),
  );
  assert.deepEqual([...dockerfiles].sort(), [...DOCKERFILES].sort(), "compose builds every image");
  for (const [name, service] of built) {
    const build = asRecord(service.build);
    const dockerfile = String(build.dockerfile);
    assert.ok(DOCKERFILES.includes(dockerfile), `${name}: builds ${dockerfile}`);
    const defaults = argDefaults(dockerfile);
    for (const [arg, value] of Object.entries(asRecord(build.args))) {
      assert.equal(String(value), version(arg), `${name}: build arg ${arg}`);
      assert.equal(defaults.get(arg), version(arg), `${dockerfile}: ARG ${arg} default`);
    }
  }
  for (const dockerfile of DOCKERFILES) {
    const defaults = argDefaults(dockerfile);
    assert.ok(defaults.size > 0, `${dockerfile} takes its versions as build args`);
    for (const [arg, value] of defaults) {
      assert.equal(value, version(arg), `${dockerfile}: ARG ${arg}=${value}`);
    }
    // Every FROM tag is made of those ARGs only: no version typed twice.
    const froms = [...Deno.readTextFileSync(dockerfile).matchAll(/^FROM\s+(\S+)/gm)];
    for (const [, image = ""] of froms) {
      const tag = image.split(":")[1] ?? "";
      assert.ok(tag.includes("${"), `${dockerfile}: FROM ${image} takes its tag from an ARG`);
      assert.doesNotMatch(tag.replace(/\$\{[A-Z_]+\}/g, ""), /\d/, `${dockerfile}: FROM ${image}`);
    }
  }
});

Deno.test("images cache locked dependencies at build time and run as a non-root user", () => {
  for (const dockerfile of DENO_DOCKERFILES) {
    const text = Deno.readTextFileSync(dockerfile);
    assert.match(text, /^COPY .*deno\.json deno\.lock/m, `${dockerfile}: import map and lock`);
    assert.match(text, /^RUN deno install --frozen/m, `${dockerfile}: npm packages at build`);
    assert.match(text, /^RUN deno cache --frozen /m, `${dockerfile}: entry points at build`);
  }
  for (const dockerfile of DOCKERFILES) {
    const users = [...Deno.readTextFileSync(dockerfile).matchAll(/^USER\s+(\S+)/gm)].map((m) =>
      m[1]
    );
    assert.ok(users.length > 0 && !["root", "0"].includes(users.at(-1) ?? ""), dockerfile);
  }
  const airflow = Deno.readTextFileSync("docker/airflow/Dockerfile");
  assert.match(airflow, /^COPY stack\/python\/dbt\.lock\.txt /m, "dbt from the native lock file");
  assert.match(airflow, /python -m venv \/opt\/dbt/, "dbt in a virtualenv of its own");
});

/** The pinned `name==version` lines of a lock file, by package name. */
function lockPins(path: string): Map<string, string> {
  return new Map(
    [...Deno.readTextFileSync(path).matchAll(/^([A-Za-z0-9._-]+)==(\S+)/gm)].map((m) => [
      (m[1] ?? "").toLowerCase(),
      m[2] ?? "",
    ]),
  );
}

Deno.test("the Superset image adds the PostgreSQL driver and gunicorn at the native lock's pins", () => {
  const text = Deno.readTextFileSync(SUPERSET_DOCKERFILE);
  assert.match(text, /^FROM apache\/superset:\$\{SUPERSET_VERSION\}$/m, "the official image");
  assert.match(text, /^COPY stack\/python\/superset\.lock\.txt /m, "pins from the native lock");
  // The packages the RUN line takes from the lock, each pinned there (2.9.9: 6.1's postgres extra).
  const taken = /grep -E '\^\(([a-z0-9|-]+)\)==' \/tmp\/superset\.lock\.txt/.exec(text)?.[1];
  assert.equal(taken, "psycopg2-binary|gunicorn", "the driver and the web server, nothing else");
  const pins = lockPins("stack/python/superset.lock.txt");
  assert.equal(pins.get("psycopg2-binary"), "2.9.9", "the driver pin of Superset's postgres extra");
  const gunicorn = (pins.get("gunicorn") ?? "0").split(".").map(Number);
  assert.ok(
    (gunicorn[0] ?? 0) * 100 + (gunicorn[1] ?? 0) >= 2501,
    "gunicorn 25.1 or later: the server command passes --no-control-socket",
  );
  assert.match(text, /uv pip install --no-cache --python \/app\/\.venv\/bin\/python -r /);
});

/** True when the path exists; a `*` in its last segment must match at least one entry. */
function exists(source: string): boolean {
  const at = source.lastIndexOf("/");
  const [dir, name] = at === -1 ? [".", source] : [source.slice(0, at), source.slice(at + 1)];
  try {
    if (!name.includes("*")) return Deno.statSync(source) !== null;
    const pattern = new RegExp(
      `^${name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`,
    );
    return [...Deno.readDirSync(dir)].some((entry) => pattern.test(entry.name));
  } catch {
    return false;
  }
}

/** Top-level names .dockerignore leaves out of the build context (its plain entries). */
function ignoredTopLevel(): Set<string> {
  return new Set(
    Deno.readTextFileSync(".dockerignore").split("\n").map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#") && !/[*!/]/.test(line)),
  );
}

Deno.test("every file a Dockerfile copies from the build context exists and is not ignored", () => {
  const ignored = ignoredTopLevel();
  assert.ok(ignored.has("tests") && ignored.has(".git"), ".dockerignore read");
  const problems: string[] = [];
  for (const dockerfile of DOCKERFILES) {
    const copies = Deno.readTextFileSync(dockerfile).matchAll(/^COPY\s+(.+)$/gm);
    for (const [, line = ""] of copies) {
      const words = line.trim().split(/\s+/).filter((word) => !word.startsWith("--"));
      if (/^COPY\s+.*--from=/.test(`COPY ${line}`)) continue;
      for (const source of words.slice(0, -1)) {
        const top = source.replace(/^\.\//, "").split("/")[0] ?? "";
        if (!exists(source)) {
          problems.push(`${dockerfile}: COPY ${source} does not exist`);
          continue;
        }
        if (ignored.has(top)) problems.push(`${dockerfile}: COPY ${source} is in .dockerignore`);
      }
    }
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});
