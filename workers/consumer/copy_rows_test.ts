import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { directCopyLines, stageCopyLines } from "./copy_rows.ts";
import type { ValidRow } from "./plan.ts";
import { needsCopyEscape } from "../shared/mod.ts";

const row = (offset: number, text: string, timestampMs: number): ValidRow => ({
  eventId: `00000000-0000-4000-8000-00000000000${offset}`,
  offset,
  key: "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f",
  value: new TextEncoder().encode(text),
  escape: needsCopyEscape(text),
  timestampMs,
});

Deno.test("directCopyLines: one line per row, the envelope in table column order", () => {
  const text = directCopyLines({ group: "g", topic: "order\tevents", partition: 3 }, [
    row(1, '{"reason":"a\\nb"}', Date.UTC(2026, 10, 25, 10)),
    row(2, "{}", Date.UTC(2026, 10, 25, 10)),
    row(3, "{}", Date.UTC(2026, 10, 25, 11)),
  ]).toString();
  const lines = text.split("\n");
  assertEquals(lines.length, 4, "three rows, each ending in a newline");
  assertEquals(lines[3], "");
  assertEquals(lines[0]!.split("\t"), [
    "00000000-0000-4000-8000-000000000001",
    '{"reason":"a\\\\nb"}',
    "order\\tevents",
    "3",
    "1",
    "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f",
    "2026-11-25T10:00:00.000Z",
  ]);
  assertEquals(lines[2]!.split("\t").at(-1), "2026-11-25T11:00:00.000Z", "a new timestamp");
});

Deno.test("directCopyLines: the message's own bytes as payload, escaped only when needed", () => {
  const plain = '{"reason":"ä – 😀"}';
  const escaped = '{"reason":"a\\"b"}';
  const lines = directCopyLines({ group: "g", topic: "t", partition: 0 }, [
    row(1, plain, 0),
    row(2, escaped, 0),
  ]).toString().split("\n");
  assertEquals(lines[0]!.split("\t")[1], plain);
  assertEquals(lines[1]!.split("\t")[1], '{"reason":"a\\\\"b"}');
});

Deno.test("stageCopyLines: the stage's columns, timestamps as whole epoch milliseconds", () => {
  const text = stageCopyLines([row(7, '{"a":"\\\\"}', 1764064800123.9)]).toString();
  assertEquals(
    text,
    '00000000-0000-4000-8000-000000000007\t{"a":"\\\\\\\\"}\t7\t' +
      "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f\t1764064800123\n",
  );
  assertEquals(stageCopyLines([]).length, 0);
});

Deno.test("stageCopyLines: a batch larger than its estimate grows the buffer", () => {
  const reason = "\\".repeat(5000);
  const rows = Array.from({ length: 3 }, (_, i) => row(i, `{"r":"${reason}"}`, 0));
  const lines = stageCopyLines(rows).toString().split("\n");
  assertEquals(lines.length, 4);
  assertEquals(lines[2]!.split("\t")[1], `{"r":"${reason.repeat(2)}"}`);
});
