/**
 * PostgreSQL COPY text format, the one definition: the extractor's raw store and the consumer's
 * landing both stream rows as tab-separated lines, so a field must not contain a raw backslash,
 * newline, carriage return or tab.
 */

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** True when `text` has a character COPY's text format must escape. */
export function needsCopyEscape(text: string): boolean {
  return NEEDS_ESCAPE.test(text);
}

/** Escapes `text` for one field of COPY's text format (backslash, newline, CR, tab). */
export function copyEscape(text: string): string {
  // Most fields (JSON without escapes, names, URLs) need nothing: test once, replace rarely.
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\\n\r\t]/g, (char) => ESCAPES[char]!) : text;
}
