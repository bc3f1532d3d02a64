/**
 * The stack manager, driven as a user drives it: `up` twice is a no-op, `down` stops every
 * daemon and keeps the data, `up` again finds the data, a taken port is named, and a service
 * that fails to start makes `up` exit non-zero with its log tail.
 * Destructive (stops and restarts services): runs only against the isolated `test` instance.
 */
import assert from "node:assert/strict";
import { connectAs, env } from "../foundation/support.ts";

// any isolated instance (profile test) — never the user's dev stack
const instance = Deno.env.get("STACK_INSTANCE") ?? "dev";
const isTestInstance = instance !== "dev" && Deno.env.get("STACK_PROFILE") === "test";

async function stackctl(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("python3", {
    args: ["-m", "stack.stackctl", "--instance", instance, ...args],
    env: extraEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, output: text };
}

function daemons(): string[] {
  const manifest = JSON.parse(Deno.readTextFileSync("stack/services.json"));
  return manifest.services
    .filter((s: { kind: string; profiles?: string[] }) =>
      s.kind === "daemon" && (s.profiles ?? ["dev", "test"]).includes("test")
    )
    .map((s: { name: string }) => s.name);
}

/** Each daemon's pid as `status` shows it (supervised ones have no pid file), null if none. */
async function pids(): Promise<Record<string, number | null>> {
  const { output } = await stackctl(["status"]);
  const found: Record<string, number | null> = {};
  for (const name of daemons()) {
    const line = output.split("\n").find((l) => l.trim().startsWith(`${name} `));
    const pid = Number(line?.match(/pid=(\d+)/)?.[1]);
    found[name] = pid > 0 ? pid : null;
  }
  return found;
}

/** True while any process of group `pgid` (a daemon started by the stack manager) lives. */
async function groupAlive(pgid: number): Promise<boolean> {
  // ps shows zombies as state Z: those are gone for our purpose
  const out = await new Deno.Command("ps", { args: ["-e", "-o", "pgid=,stat="] }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .some(([group, stat]) => Number(group) === pgid && !stat?.startsWith("Z"));
}

Deno.test({
  name: "stack manager: up is idempotent, down keeps data, failures are reported",
  ignore: !isTestInstance,
  sanitizeResources: false,
  fn: async (t) => {
    const before = await pids();

    await t.step("a second `up` is a no-op: same processes, all healthy", async () => {
      const { code, output } = await stackctl(["up"]);
      assert.equal(code, 0, output);
      assert.deepEqual(await pids(), before);
      for (const name of daemons()) {
        assert.match(output, new RegExp(`${name}: already running and healthy`));
      }
      const status = await stackctl(["status"]);
      assert.equal(status.code, 0, status.output);
    });

    await t.step("data written before `down` is there after `up`", async () => {
      const client = await connectAs("postgres");
      await client.query("create table raw.stack_probe as select 'survives restart' as note");
      await client.end();

      const down = await stackctl(["down"]);
      assert.equal(down.code, 0, down.output);
      for (const [name, pid] of Object.entries(before)) {
        assert.ok(pid !== null, `${name} had no pid before down`);
        assert.ok(!(await groupAlive(pid)), `${name} (group ${pid}) still runs after down`);
      }
      const status = await stackctl(["status"]);
      assert.notEqual(status.code, 0, "status of a stopped stack is not healthy");
    });

    await t.step("a taken port is named instead of failing obscurely", async () => {
      const port = Number(env("PGPORT"));
      const squatter = Deno.listen({ hostname: "127.0.0.1", port });
      try {
        const { code, output } = await stackctl(["up", "postgres"]);
        assert.notEqual(code, 0);
        assert.match(output, new RegExp(`port ${port} \\(PGPORT\\) is already taken`));
      } finally {
        squatter.close();
      }
    });

    await t.step("a service that fails to start fails `up` with its log tail", async () => {
      // -Xmx below -Xms: the JVM refuses to start
      const { code, output } = await stackctl(["up", "kafka"], { KAFKA_HEAP_MAX: "1m" });
      assert.notEqual(code, 0, output);
      assert.match(output, /kafka: exited with code \d+ while starting\. Log tail/);
      assert.match(output, /heap/i, "the tail shows the JVM's own reason");
    });

    await t.step("`up` after `down` brings everything back with the data", async () => {
      const { code, output } = await stackctl(["up"]);
      assert.equal(code, 0, output);
      const client = await connectAs("postgres");
      try {
        const { rows } = await client.query("select note from raw.stack_probe");
        assert.equal(rows[0]?.note, "survives restart");
      } finally {
        await client.end();
      }
    });
  },
});
