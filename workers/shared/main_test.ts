import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { ConfigError } from "./errors.ts";
import { pickCommand } from "./main.ts";

const NAMES = ["run", "health", "status"] as const;

Deno.test("pickCommand: the first word names the command, the rest are its arguments", () => {
  assertEquals(pickCommand(["status", "--json"], NAMES), { command: "status", args: ["--json"] });
  assertEquals(pickCommand(["health"], NAMES), { command: "health", args: [] });
  assertEquals(pickCommand(["run", "--rate", "5"], NAMES), {
    command: "run",
    args: ["--rate", "5"],
  });
});

Deno.test("pickCommand: no command, or flags first, runs the default command", () => {
  assertEquals(pickCommand([], NAMES), { command: "run", args: [] });
  assertEquals(pickCommand(["--rate", "max"], NAMES), { command: "run", args: ["--rate", "max"] });
});

Deno.test("pickCommand: an unknown command is a ConfigError naming it and the choices", () => {
  throws(
    () => pickCommand(["stauts"], NAMES),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message === 'Unknown command "stauts": expected run, health, status',
  );
});
