/**
 * Health check of the simulator daemon (stack/services.json, docker-compose.yml): exit 0 when
 * the producer touched its heartbeat file (after an acknowledged send) within
 * PRODUCER_HEALTH_MAX_AGE_S (default 30 s). A producer that cannot reach the broker stops
 * touching it. The file is PRODUCER_HEARTBEAT_FILE, else $STATE_DIR/run/producer.heartbeat
 * (where the native stack's producer writes it).
 */
const stateDir = Deno.env.get("STATE_DIR");
const file = Deno.env.get("PRODUCER_HEARTBEAT_FILE") ??
  (stateDir ? `${stateDir}/run/producer.heartbeat` : undefined);
const maxAgeS = Number(Deno.env.get("PRODUCER_HEALTH_MAX_AGE_S") ?? "30");
try {
  if (!file) throw new Error("PRODUCER_HEARTBEAT_FILE is not set");
  const { mtime } = await Deno.stat(file);
  Deno.exit(mtime !== null && Date.now() - mtime.getTime() <= maxAgeS * 1000 ? 0 : 1);
} catch {
  Deno.exit(1);
}
