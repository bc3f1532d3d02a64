/**
 * One source of versions: versions.env must agree with what actually runs — the PostgreSQL
 * server, the Kafka broker's jars, Deno, Python, dbt and Airflow.
 */
import assert from "node:assert/strict";
import { connectAs, env } from "./support.ts";

function readVersions(): Record<string, string> & {
  POSTGRES_MAJOR: string;
  KAFKA_VERSION: string;
  KAFKA_SCALA_VERSION: string;
  DENO_VERSION: string;
  PYTHON_VERSION: string;
  DBT_CORE_VERSION: string;
  DBT_POSTGRES_VERSION: string;
  AIRFLOW_VERSION: string;
} {
  const entries = Deno.readTextFileSync("versions.env").split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => line.split("=", 2) as [string, string]);
  const found = Object.fromEntries(entries);
  for (const key of ["POSTGRES_MAJOR", "KAFKA_VERSION", "DENO_VERSION", "AIRFLOW_VERSION"]) {
    if (!found[key]) throw new Error(`versions.env lacks ${key}`);
  }
  return found as ReturnType<typeof readVersions>;
}

const versions = readVersions();

async function output(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

Deno.test("PostgreSQL server major version matches versions.env", async () => {
  const client = await connectAs("postgres");
  try {
    const { rows } = await client.query("show server_version_num");
    assert.equal(
      String(Math.floor(Number(rows[0].server_version_num) / 10000)),
      versions.POSTGRES_MAJOR,
    );
  } finally {
    await client.end();
  }
});

Deno.test("Deno runtime matches versions.env", () => {
  assert.equal(Deno.version.deno, versions.DENO_VERSION);
});

Deno.test("the running Kafka broker is the version in versions.env", async () => {
  const libs = env("KAFKA_LIBS");
  const jar = `${libs}/kafka_${versions.KAFKA_SCALA_VERSION}-${versions.KAFKA_VERSION}.jar`;
  assert.ok((await Deno.stat(jar)).isFile, `${jar} is missing`);
  const pid = (await Deno.readTextFile(`${env("STATE_DIR")}/run/kafka.pid`)).trim();
  // Deno needs --allow-all to read /proc directly; ps reads it for us
  const cmdline = await output("ps", ["-o", "args=", "-p", pid]);
  assert.ok(cmdline.includes(`${libs}/*`), `the broker (pid ${pid}) runs from those jars`);
});

Deno.test("Python, dbt and Airflow match versions.env", async () => {
  assert.match(
    await output("python3", ["--version"]),
    new RegExp(`Python ${versions.PYTHON_VERSION}\\.`),
  );
  const dbt = await output(env("DBT_BIN"), ["--version"]);
  assert.match(dbt, new RegExp(`installed: ${versions.DBT_CORE_VERSION.replaceAll(".", "\\.")}`));
  assert.match(
    dbt,
    new RegExp(`postgres: ${versions.DBT_POSTGRES_VERSION.replaceAll(".", "\\.")}`),
  );
  const airflow = await output(env("AIRFLOW_BIN"), ["version"]);
  assert.equal(airflow.trim().split("\n").at(-1), versions.AIRFLOW_VERSION);
});

Deno.test("Python lock files pin the versions in versions.env", async () => {
  const dbtLock = await Deno.readTextFile("stack/python/dbt.lock.txt");
  assert.match(dbtLock, new RegExp(`^dbt-core==${versions.DBT_CORE_VERSION}$`, "m"));
  assert.match(dbtLock, new RegExp(`^dbt-postgres==${versions.DBT_POSTGRES_VERSION}$`, "m"));
  const airflowLock = await Deno.readTextFile("stack/python/airflow.lock.txt");
  assert.match(airflowLock, new RegExp(`^apache-airflow==${versions.AIRFLOW_VERSION}$`, "m"));
});
