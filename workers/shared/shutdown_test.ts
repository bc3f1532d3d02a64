import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createLogger } from "./log.ts";
import { handleShutdown } from "./shutdown.ts";

/** A fake signal source: `fire` calls what `listen` registered. */
function fakeSignals() {
  const handlers = new Map<Deno.Signal, Set<() => void>>();
  return {
    listen: (signal: Deno.Signal, handler: () => void) => {
      handlers.set(signal, (handlers.get(signal) ?? new Set()).add(handler));
    },
    unlisten: (signal: Deno.Signal, handler: () => void) => handlers.get(signal)?.delete(handler),
    fire: (signal: Deno.Signal) => handlers.get(signal)?.forEach((handler) => handler()),
    count: () => [...handlers.values()].reduce((sum, set) => sum + set.size, 0),
  };
}

Deno.test("the first signal stops the worker once; later signals are ignored", () => {
  const signals = fakeSignals();
  const stops: Deno.Signal[] = [];
  const shutdown = handleShutdown({
    logger: createLogger("unit", { sink: () => {} }),
    timeoutMs: 60_000,
    onStop: (signal) => stops.push(signal),
    ...signals,
    exit: () => {
      throw new Error("the watchdog must not fire");
    },
  });
  assertEquals(shutdown.requested(), null);
  signals.fire("SIGINT");
  signals.fire("SIGTERM");
  signals.fire("SIGINT");
  assertEquals(stops, ["SIGINT"]);
  assertEquals(shutdown.requested(), "SIGINT");
  shutdown.dispose();
  assertEquals(signals.count(), 0, "dispose removes every handler");
});

Deno.test("the watchdog logs and exits 1 when stopping takes longer than the timeout", async () => {
  const signals = fakeSignals();
  const lines: string[] = [];
  const exited = Promise.withResolvers<number>();
  const shutdown = handleShutdown({
    logger: createLogger("unit", { sink: (line) => lines.push(line) }),
    timeoutMs: 5,
    onStop: () => {},
    ...signals,
    exit: exited.resolve,
  });
  signals.fire("SIGTERM");
  // The watchdog's timer is unref'd (it must not keep a stopped worker alive): hold the loop.
  const hold = setTimeout(() => {}, 5_000);
  assertEquals(await exited.promise, 1);
  clearTimeout(hold);
  const entry = JSON.parse(lines[0]!);
  assertEquals([entry.level, entry.msg, entry.timeout_ms], [
    "error",
    "Shutdown took too long, exiting",
    5,
  ]);
  shutdown.dispose();
});

Deno.test("no signal, no watchdog: dispose leaves nothing running", () => {
  const signals = fakeSignals();
  const shutdown = handleShutdown({
    logger: createLogger("unit", { sink: () => {} }),
    timeoutMs: 5,
    onStop: () => {
      throw new Error("no signal came");
    },
    ...signals,
  });
  assertEquals(signals.count(), 2);
  shutdown.dispose();
  assertEquals(shutdown.requested(), null);
});
