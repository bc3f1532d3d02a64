/**
 * The one back-off policy of the workers: the wait doubles with every retry, up to a cap, and
 * may be spread by jitter. The random source is a parameter so that tests get exact waits.
 */

/** How long to wait between tries. */
export interface Backoff {
  /** The wait before the first retry. */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /** "full": a uniform draw in [0, the wait) so that many clients do not retry in step. */
  jitter?: "none" | "full";
}

/** Doublings past this change nothing once capped, and keep `2 ** n` far from Infinity. */
const MAX_DOUBLINGS = 30;

/**
 * The wait before retry number `retry` (1 is the first retry): `initialMs * 2^(retry - 1)`,
 * capped at `maxMs`, then jittered with `random` (default Math.random) when the policy says so.
 */
export function backoffDelay(
  retry: number,
  policy: Backoff,
  random: () => number = Math.random,
): number {
  const doublings = Math.min(Math.max(Math.trunc(retry) - 1, 0), MAX_DOUBLINGS);
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** doublings);
  return policy.jitter === "full" ? Math.floor(random() * capped) : capped;
}
