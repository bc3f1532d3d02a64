/**
 * What PostgreSQL text and jsonb cannot hold: U+0000 and lone UTF-16 surrogates. JSON.stringify
 * writes both as `\uXXXX` escapes (well-formed JSON.stringify), which jsonb refuses; text columns
 * refuse the raw characters. These helpers find and replace them, so a reject of any input fits.
 */

/** A `\u0000` or lone-surrogate escape in JSON text, not itself preceded by an escaping backslash. */
const REFUSED_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/gi;
/** U+0000 or a lone surrogate in a string (the `v` flag matches lone surrogates as such). */
// deno-lint-ignore no-control-regex -- U+0000 is exactly what this must find
const REFUSED_CHARACTER = /\u0000|[\p{Cs}]/gv;

/** Whether jsonb would refuse this JSON text (JSON.stringify output). */
export function jsonbRefuses(json: string): boolean {
  REFUSED_ESCAPE.lastIndex = 0;
  return REFUSED_ESCAPE.test(json);
}

/** JSON text jsonb accepts: each refused escape becomes `\ufffd`; the rest is unchanged. */
export function jsonbSafe(json: string): string {
  return json.replace(REFUSED_ESCAPE, "$1\\ufffd");
}

/** A string a text column accepts: U+0000 and lone surrogates become U+FFFD. */
export function textSafe(value: string): string {
  return value.replace(REFUSED_CHARACTER, "\uFFFD");
}
