import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { copyEscape } from "./copy.ts";

Deno.test("copyEscape escapes backslash, newline, carriage return and tab", () => {
  assertEquals(copyEscape('{"a":"b\\\\n"}'), '{"a":"b\\\\\\\\n"}');
  assertEquals(copyEscape("a\tb\nc\rd"), "a\\tb\\nc\\rd");
  assertEquals(copyEscape("\\\\"), "\\\\\\\\");
});

Deno.test("copyEscape leaves a field without special characters as it is", () => {
  assertEquals(copyEscape('{"plain":1,"text":"ä – 😀"}'), '{"plain":1,"text":"ä – 😀"}');
  assertEquals(copyEscape(""), "");
});

Deno.test("copyEscape output splits back into the original fields and rows", () => {
  // What PostgreSQL does on the way in: split rows on \n, fields on \t, then unescape.
  const unescape = (field: string) =>
    field.replace(/\\(.)/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t" })[c] ?? c);
  const rows = [["a\tb", "line\nbreak", "back\\slash"], ["cr\r", "", "x"]];
  const text = rows.map((row) => row.map(copyEscape).join("\t")).join("\n");
  const parsed = text.split("\n").map((line) => line.split("\t").map(unescape));
  assertEquals(parsed, rows);
});
