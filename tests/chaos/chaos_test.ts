/**
 * `make chaos` (opt-in, not in make test or CI; instance `cluster`): the active KRaft controller
 * SIGKILLed mid-stream, and the group coordinator's broker stopped (SIGSTOP: frozen, its
 * connections open but silent) for longer than the consumers' session timeout. The same checks
 * as the `cluster` suite: the producer keeps producing, nothing acknowledged is lost or
 * doubled, the cluster heals.
 */
import { servicePid, waitFor } from "../streaming/helpers.ts";
import { activeController, groupCoordinator, nodeName } from "../cluster/cluster.ts";
import { failoverTest, killNode } from "../cluster/failover.ts";

/** The consumers' session timeout in these runs (tests/streaming/helpers.ts ConsumerProcess). */
const SESSION_TIMEOUT_MS = 6_000;

failoverTest("SIGKILL the active controller mid-stream, restart it: 0 lost, 0 doubled", {
  name: "controller_kill",
  consumers: 1,
  rate: 500,
  seconds: 25,
  disrupt: async (context) => {
    let controller: number | null = null;
    await waitFor(async () => (controller = await activeController()) !== null, {
      timeoutMs: 30_000,
      message: "the quorum named no active controller",
    });
    const killed = controller!;
    context.say(`node ${killed} is the active controller`);
    await killNode(context, killed, async () => {
      let next: number | null = null;
      await waitFor(async () => ![null, killed].includes(next = await activeController()), {
        timeoutMs: 60_000,
        message: `no new controller after node ${killed} was killed`,
        intervalMs: 500,
      });
      context.say(`node ${next} is the active controller now`);
    });
  },
});

failoverTest("freeze the group coordinator's broker past the session timeout: 0 lost, 0 doubled", {
  name: "coordinator_stop",
  consumers: 2,
  rate: 500,
  seconds: 30,
  disrupt: async ({ group, say }) => {
    const coordinator = await groupCoordinator(group);
    const name = nodeName(coordinator);
    const pid = await servicePid(name);
    const frozenMs = SESSION_TIMEOUT_MS * 2.5;
    say(`SIGSTOP ${name}, coordinator of ${group}, for ${frozenMs} ms`);
    Deno.kill(pid, "SIGSTOP");
    try {
      await new Promise((resolve) => setTimeout(resolve, frozenMs));
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
    // The frozen broker missed its own session with the controller too: it comes back fenced
    // and re-registers by itself; under-replicated partitions back at 0 (checked after the
    // run) show that it rejoined.
    say(`SIGCONT ${name}; the group's coordinator is node ${await groupCoordinator(group)} now`);
  },
});
