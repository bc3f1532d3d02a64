/**
 * The native stack supervises its workers: the consumer and the producer, started by the stack
 * manager and SIGKILLed (their whole process group), come back without `up`; nothing in the
 * topic is lost or doubled; an explicit stop keeps a worker down and leaves no process behind.
 * Destructive for the instance's workers: runs only against the isolated test instance.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  accountedFor,
  closeSql,
  deleteTopics,
  fillTopic,
  isTestInstance,
  landedCounts,
  REPO,
  sql,
  topicEnd,
  uniqueName,
  waitFor,
} from "./helpers.ts";

const WORKERS = ["consumer", "producer"] as const;

async function stackctl(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["-m", "stack.stackctl", "--instance", "test", ...args],
    cwd: REPO,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success && args[0] !== "status") throw new Error(`stackctl ${args.join(" ")}:\n${text}`);
  return text;
}

/** Each worker's state word, pid and restart count, as `make status` shows them. */
async function workerStatus(): Promise<
  Record<string, { state: string; pid: number; restarts: number }>
> {
  const text = await stackctl(["status"]);
  const found: Record<string, { state: string; pid: number; restarts: number }> = {};
  for (const name of WORKERS) {
    const line = text.split("\n").find((l) => l.trim().startsWith(`${name} `)) ?? "";
    const match = line.match(/^\s*\S+\s+(.+?)\s+pid=(\S+)\s+port=\S+\s+restarts=(\d+)/);
    if (match) {
      found[name] = { state: match[1]!, pid: Number(match[2]) || 0, restarts: Number(match[3]) };
    } else {
      // `status` lists a stopped worker of the test profile (which runs none) not at all
      found[name] = { state: line ? `unparsed: ${line}` : "not listed", pid: 0, restarts: -1 };
    }
  }
  return found;
}

/** Pids of the processes still in process group `pgid`. */
async function groupMembers(pgid: number): Promise<string[]> {
  const out = await new Deno.Command("ps", { args: ["-e", "-o", "pgid=,pid=,stat="] }).output();
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([group, , stat]) => Number(group) === pgid && !stat?.startsWith("Z"))
    .map(([, pid]) => pid!);
}

Deno.test({
  name: "supervised workers: SIGKILLed consumer and producer come back, nothing lost; stop holds",
  ignore: !isTestInstance,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const topic = uniqueName("t_supervised");
    // Both workers read ORDER_EVENTS_TOPIC; the producer sends fallback-catalog events at 40/s.
    const workerEnv = {
      ORDER_EVENTS_TOPIC: topic,
      PRODUCER_RATE: "40",
      PRODUCER_CATALOG: "fallback",
    };
    try {
      const manifest = await fillTopic(topic, { count: 2_000, seed: `supervised-${topic}` });
      await stackctl(["up", "consumer", "producer"], workerEnv);
      const before = await workerStatus();
      for (const name of WORKERS) {
        assertEquals(before[name]!.state, "healthy", `${name} after up`);
        assertEquals(before[name]!.restarts, 0, `${name} restarts after up`);
      }
      // A crash: the whole worker (task runner and its deno child) dies at once.
      for (const name of WORKERS) {
        const kill = await new Deno.Command("kill", {
          args: ["-KILL", "--", `-${before[name]!.pid}`],
        }).output();
        assert(kill.success, `kill ${name}`);
      }
      let after = before;
      await waitFor(async () => {
        after = await workerStatus();
        return WORKERS.every((n) =>
          after[n]!.state === "healthy" && after[n]!.pid !== before[n]!.pid &&
          after[n]!.restarts === 1
        );
      }, { timeoutMs: 40_000, message: `workers did not come back: ${JSON.stringify(after)}` });

      // An explicit stop of the producer holds: supervisord does not start it again.
      await stackctl(["stop", "producer"]);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const stopped = await workerStatus();
      assertEquals(stopped.producer!.state, "not listed", "a stopped producer restarted");
      assertEquals(await groupMembers(after.producer!.pid), [], "producer processes after stop");

      // Nothing lost, nothing doubled: every message of the topic is accounted for once, the
      // pre-filled manifest's events all landed, and the producer's own events are there too.
      const end = await topicEnd(topic);
      await waitFor(async () => (await accountedFor(topic)) >= end, {
        timeoutMs: 30_000,
        message: `consumer did not account for all ${end} messages of ${topic}`,
      });
      assertEquals(await accountedFor(topic), end, "every message accounted for exactly once");
      const counts = await landedCounts(topic);
      assert(counts.events > manifest.acknowledged.valid, "the producer's events landed too");
      const [row] = await sql<{ missing: number }>(
        `select count(*)::int as missing from unnest($1::uuid[]) as m(id)
         where not exists (select 1 from raw.order_events e where e.event_id = m.id)`,
        [manifest.valid_event_ids],
      );
      assertEquals(row!.missing, 0, "pre-filled events missing from raw.order_events");
    } finally {
      const last = await workerStatus().catch(() => undefined);
      await stackctl(["stop", ...WORKERS]).catch((error) => console.error(error));
      for (const name of WORKERS) {
        const pid = last?.[name]?.pid;
        if (pid) assertEquals(await groupMembers(pid), [], `${name} processes after stop`);
      }
      await deleteTopics(topic);
      await closeSql();
    }
  },
});
