import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { unexpectedConsoleErrors } from "./console.ts";

Deno.test("only the blocked Scarf pixel is ignored among console errors", () => {
  const scarf = "Refused to load the image 'https://apachesuperset.gateway.scarf.sh/pixel/x' " +
    "because it violates the following Content Security Policy directive: \"img-src 'self'\".";
  const other = "Refused to load the image 'https://example.org/x.png' because it violates " +
    "the following Content Security Policy directive: \"img-src 'self'\".";
  assertEquals(unexpectedConsoleErrors([scarf, other, "TypeError: x is undefined"]), [
    other,
    "TypeError: x is undefined",
  ]);
});
