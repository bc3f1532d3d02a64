/**
 * docker-compose.yml is a valid Compose file: it validates against the Compose Specification's
 * JSON schema (vendored in tests/compose/compose-spec.json, source in tests/compose/README.md)
 * with Ajv, both as written and after interpolation with the defaults of .env.example — what
 * Compose itself validates.
 */
import assert from "node:assert/strict";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import formatsModule from "ajv-formats";
import {
  COMPOSE_FILE,
  envExample,
  interpolateDeep,
  type Json,
  loadCompose,
  REQUIRED_SECRETS,
  SCHEMA_FILE,
} from "./support.ts";

// ajv-formats is CommonJS: its default export is the plugin function itself.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

function compileSchema() {
  // Strict mode catches unknown keywords and formats. Two of its lints are off, as they flag the
  // Compose schema's style, not errors: strictTypes (union types such as ["string", "number"],
  // type-less `properties`) and strictRequired (`required` inside `anyOf` branches).
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictRequired: false,
  });
  addFormats(ajv);
  return ajv.compile(JSON.parse(Deno.readTextFileSync(SCHEMA_FILE)));
}

const validate = compileSchema();

function errors(document: Json): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map((error: ErrorObject) =>
    `${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`
  );
}

Deno.test(`${COMPOSE_FILE} validates against the Compose Specification schema`, () => {
  const compose = loadCompose();
  assert.deepEqual(errors(compose), [], "as written");
  // As `make secrets >> .env` leaves it: .env.example's settings plus every required secret.
  const env = new Map([
    ...envExample(),
    ...[...REQUIRED_SECRETS].map((key) => [key, "x"] as const),
  ]);
  assert.deepEqual(errors(interpolateDeep(compose, env)), [], "interpolated");
  assert.throws(() => interpolateDeep(compose, envExample()), /run make secrets/, "no secrets");
});

Deno.test("the vendored schema rejects what Compose rejects", () => {
  const compose = structuredClone(loadCompose());
  const postgres = compose.services.postgres;
  assert.ok(postgres, "compose has a postgres service");
  // A misspelt key and a depends_on condition Compose does not know.
  postgres.healthcheck = { ...(postgres.healthcheck as Record<string, Json>), intervall: "5s" };
  compose.services.migrate = {
    ...compose.services.migrate,
    depends_on: { postgres: { condition: "service_ready" } },
  };
  const found = errors(compose).join("\n");
  assert.match(found, /\/services\/postgres\/healthcheck must NOT have additional properties/);
  assert.match(found, /\/services\/migrate\/depends_on\/postgres\/condition must be equal to one/);
});
