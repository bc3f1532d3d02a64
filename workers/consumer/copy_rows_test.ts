import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { directCopyText, stageCopyText } from "./copy_rows.ts";
import type { ValidRow } from "./plan.ts";

const row = (offset: number, text: string, timestampMs: number): ValidRow => ({
  eventId: `00000000-0000-4000-8000-00000000000${offset}`,
  offset,
  key: "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f",
  value: null,
  text,
  timestampMs,
});

Deno.test("directCopyText: one line per row, the envelope in table column order", () => {
  const text = directCopyText({ group: "g", topic: "order\tevents", partition: 3 }, [
    row(1, '{"reason":"a\\nb"}', Date.UTC(2026, 10, 25, 10)),
    row(2, "{}", Date.UTC(2026, 10, 25, 10)),
    row(3, "{}", Date.UTC(2026, 10, 25, 11)),
  ]);
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

Deno.test("stageCopyText: the stage's columns, timestamps as whole epoch milliseconds", () => {
  const text = stageCopyText([row(7, '{"a":"\\\\"}', 1764064800123.9)]);
  assertEquals(
    text,
    '00000000-0000-4000-8000-000000000007\t{"a":"\\\\\\\\"}\t7\t' +
      "6f1c8f4e-3b7a-4d2e-9c1f-0a2b3c4d5e6f\t1764064800123\n",
  );
  assertEquals(stageCopyText([]), "");
});
