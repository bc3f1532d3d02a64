/**
 * `main.ts health`, the simulator daemon's health check (stack/services.json,
 * docker-compose.yml): healthy when the producer touched its heartbeat file (after an
 * acknowledged send) within PRODUCER_HEALTH_MAX_AGE_S (default 30 s). A producer that cannot
 * reach the broker stops touching it. The file is PRODUCER_HEARTBEAT_FILE, else
 * $STATE_DIR/run/producer.heartbeat (where the native stack's producer writes it). Unhealthy:
 * a message naming the file and its age (or the bad setting), exit 1.
 */
import { ConfigError, type Logger } from "../shared/mod.ts";

/** The heartbeat file to check: PRODUCER_HEARTBEAT_FILE, else under STATE_DIR. */
export function heartbeatFile(env: Readonly<Record<string, string | undefined>>): string {
  const file = env.PRODUCER_HEARTBEAT_FILE ??
    (env.STATE_DIR ? `${env.STATE_DIR}/run/producer.heartbeat` : undefined);
  if (file === undefined || file === "") {
    throw new ConfigError("Set PRODUCER_HEARTBEAT_FILE or STATE_DIR to check the heartbeat");
  }
  return file;
}

/** PRODUCER_HEALTH_MAX_AGE_S as seconds (default 30); a value that is no positive number throws. */
export function maxAgeSeconds(text: string | undefined): number {
  if (text === undefined) return 30;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(
      `PRODUCER_HEALTH_MAX_AGE_S must be a number of seconds above 0, got ${JSON.stringify(text)}`,
    );
  }
  return seconds;
}

/** Why a heartbeat touched at `mtime` is stale at `now`, or null when it is fresh. */
export function staleness(
  file: string,
  mtime: Date | null,
  now: number,
  maxAgeS: number,
): string | null {
  if (mtime === null) return `Heartbeat file ${file} has no modification time`;
  const ageS = (now - mtime.getTime()) / 1000;
  if (ageS <= maxAgeS) return null;
  return `Heartbeat file ${file} is ${ageS.toFixed(1)} s old, over the limit of ${maxAgeS} s`;
}

/** Checks the heartbeat file's age; exit code 0 healthy, 1 not. */
export async function health(logger: Logger): Promise<number> {
  const env = Deno.env.toObject();
  const maxAgeS = maxAgeSeconds(env.PRODUCER_HEALTH_MAX_AGE_S);
  const file = heartbeatFile(env);
  let mtime: Date | null;
  try {
    mtime = (await Deno.stat(file)).mtime;
  } catch (error) {
    throw new Error(`Reading heartbeat file ${file} failed`, { cause: error });
  }
  const problem = staleness(file, mtime, Date.now(), maxAgeS);
  if (problem === null) return 0;
  logger.error(problem, { file, max_age_s: maxAgeS });
  return 1;
}
