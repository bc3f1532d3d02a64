/**
 * One source of versions for the images too: every image tag, build argument and Dockerfile
 * ARG default agrees with versions.env; the Dockerfiles take versions only from those ARGs,
 * cache the locked dependencies at build time and end as a non-root user.
 */
import assert from "node:assert/strict";
import { asRecord, loadCompose, required, versions } from "./support.ts";

const pinned = versions();
const version = (key: string): string => required(pinned, key, "versions.env");
const compose = loadCompose();
const DOCKERFILES = ["docker/deno/Dockerfile", "docker/airflow/Dockerfile"];

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
    } else {
      assert.equal(dockerfile, "", `${name}: unknown Dockerfile ${dockerfile}`);
    }
  }
});

Deno.test("compose build args and Dockerfile ARG defaults are versions.env's values", () => {
  const built = Object.entries(compose.services).filter(([, service]) => service.build);
  assert.ok(built.length >= 2, "compose builds the Deno and the Airflow image");
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
  for (const dockerfile of DOCKERFILES) {
    const text = Deno.readTextFileSync(dockerfile);
    assert.match(text, /^COPY .*deno\.json deno\.lock/m, `${dockerfile}: import map and lock`);
    assert.match(text, /^RUN deno install --frozen/m, `${dockerfile}: npm packages at build`);
    assert.match(text, /^RUN deno cache --frozen /m, `${dockerfile}: entry points at build`);
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0 && !["root", "0"].includes(users.at(-1) ?? ""), dockerfile);
  }
  const airflow = Deno.readTextFileSync("docker/airflow/Dockerfile");
  assert.match(airflow, /^COPY stack\/python\/dbt\.lock\.txt /m, "dbt from the native lock file");
  assert.match(airflow, /python -m venv \/opt\/dbt/, "dbt in a virtualenv of its own");
});
