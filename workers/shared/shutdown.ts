/**
 * Signal handling of the long-running workers, the one definition: the first SIGTERM or SIGINT
 * asks the worker to stop (finish what is in flight), later ones are ignored, and a watchdog
 * exits 1 if stopping takes longer than the worker's shutdown timeout. The watchdog's timer is
 * unref'd: a worker that stops in time exits without waiting for it.
 */
import type { Logger } from "./log.ts";

/** Options of `handleShutdown`. */
export interface ShutdownOptions {
  logger: Logger;
  /** How long stopping may take before the watchdog exits 1. */
  timeoutMs: number;
  /** Called once, on the first signal. */
  onStop: (signal: Deno.Signal) => void;
  signals?: readonly Deno.Signal[];
  /** Registers a signal handler (tests pass a fake; default Deno.addSignalListener). */
  listen?: (signal: Deno.Signal, handler: () => void) => void;
  /** Removes a handler `listen` registered (default Deno.removeSignalListener). */
  unlisten?: (signal: Deno.Signal, handler: () => void) => void;
  /** What the watchdog calls (tests pass a fake; default Deno.exit). */
  exit?: (code: number) => void;
}

/** The shutdown state a worker's main loop reads. */
export interface Shutdown {
  /** The signal that asked to stop, or null while none came. */
  requested(): Deno.Signal | null;
  /** Removes the signal handlers and disarms the watchdog. */
  dispose(): void;
}

/** Takes SIGTERM and SIGINT from now on: the first one calls `onStop` and arms the watchdog. */
export function handleShutdown(options: ShutdownOptions): Shutdown {
  const listen = options.listen ?? Deno.addSignalListener;
  const unlisten = options.unlisten ?? Deno.removeSignalListener;
  const exit = options.exit ?? Deno.exit;
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  let requested: Deno.Signal | null = null;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const handlers = signals.map((signal) => {
    const handler = () => {
      if (requested !== null) return;
      requested = signal;
      const timer = setTimeout(() => {
        options.logger.error("Shutdown took too long, exiting", { timeout_ms: options.timeoutMs });
        exit(1);
      }, options.timeoutMs);
      Deno.unrefTimer(timer);
      watchdog = timer;
      options.onStop(signal);
    };
    listen(signal, handler);
    return { signal, handler };
  });
  return {
    requested: () => requested,
    dispose: () => {
      clearTimeout(watchdog);
      for (const { signal, handler } of handlers) unlisten(signal, handler);
    },
  };
}
