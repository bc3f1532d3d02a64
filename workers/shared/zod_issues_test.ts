/** Unit: zod issues written as one line naming each field. */
import assert from "node:assert/strict";
import { z } from "zod";
import { formatIssues } from "./zod_issues.ts";

function issuesOf(schema: z.ZodType, value: unknown): z.core.$ZodIssue[] {
  const result = schema.safeParse(value);
  assert.equal(result.success, false, "the value must fail the schema");
  return result.error!.issues;
}

const order = z.object({
  quantity: z.int().max(100),
  address: z.object({ city: z.string() }),
});

Deno.test("each failing field by its dotted path and zod's reason, in order", () => {
  const issues = issuesOf(order, { quantity: 101, address: { city: 7 } });
  assert.equal(
    formatIssues(issues),
    "quantity: Too big: expected number to be <=100; " +
      "address.city: Invalid input: expected string, received number",
  );
});

Deno.test("an issue about the whole value is named by the root label", () => {
  const issues = issuesOf(order, "not an object");
  assert.equal(formatIssues(issues), "(root): Invalid input: expected object, received string");
  assert.match(formatIssues(issues, { rootLabel: "(record)" }), /^\(record\): Invalid input/);
});

Deno.test("maxIssues names the first ones and counts the rest", () => {
  const schema = z.object(Object.fromEntries([..."abcde"].map((key) => [key, z.string()])));
  const line = formatIssues(issuesOf(schema, {}), { maxIssues: 2 });
  assert.equal(
    line,
    "a: Invalid input: expected string, received undefined; " +
      "b: Invalid input: expected string, received undefined; and 3 more",
  );
  assert.doesNotMatch(formatIssues(issuesOf(schema, {}), { maxIssues: 5 }), /more/);
});

Deno.test("maxChars cuts the line", () => {
  const issues = issuesOf(order, { quantity: 101, address: { city: 7 } });
  assert.equal(formatIssues(issues, { maxChars: 8 }), "quantity");
  assert.equal(formatIssues([]), "");
});
