/**
 * The one place a payload's hash is computed: sha256 (hex) of its canonical JSON, that is
 * JSON.stringify with every object's keys sorted (UTF-16 code-unit order) and no whitespace.
 * jsonb reorders keys (by length, then bytes) and drops whitespace, so hashing the text as
 * received or as stored would not be stable; the canonical form is (docs/decisions/0022).
 */
import { createHash } from "node:crypto";

function canonicalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalise);
  if (typeof value === "object" && value !== null) {
    // No prototype: a key named "__proto__" stays an ordinary key.
    const sorted: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value).sort()) {
      sorted[key] = canonicalise((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

/** The canonical JSON text of a JSON value (sorted keys, compact). */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(canonicalise(value));
  if (text === undefined) throw new TypeError("Cannot hash a value that is not JSON");
  return text;
}

/** sha256 hex of a canonical JSON text (what `canonicalJson` returned). */
export function canonicalTextHash(canonical: string): string {
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** sha256 hex of `canonicalJson(value)`: the `payload_hash` of every raw row. */
export function payloadHash(value: unknown): string {
  return canonicalTextHash(canonicalJson(value));
}
