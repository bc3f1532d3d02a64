/**
 * Regenerates docs/events.schema.json from the event contract's zod schema
 * (workers/shared/events.ts); tests/streaming/events_contract_test.ts fails while it is stale.
 *
 *   deno task events:schema
 */
import { eventsJsonSchema } from "../workers/shared/mod.ts";

const target = new URL("../docs/events.schema.json", import.meta.url);
await Deno.writeTextFile(target, JSON.stringify(eventsJsonSchema(), null, 2) + "\n");
console.log(`Wrote ${target.pathname}`);
