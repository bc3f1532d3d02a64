/**
 * `make extract` and `make dlq-replay` hand START, END and ARGS to the CLI as data: a value with
 * quotes, a space, shell `$(...)`/backticks or make's `$(shell ...)` reaches the CLI literally,
 * the CLI refuses it with an error naming it, and no command hidden in it runs (its canary file
 * stays absent). Make runs the real targets; the CLIs fail on the value before any connection.
 */
import assert from "node:assert/strict";

/** Runs `make -s <args>` from the repository root; returns its exit code (2 when a recipe
 * failed) and the messages the CLI logged. */
async function make(args: string[]): Promise<{ code: number; messages: string[] }> {
  const out = await new Deno.Command("make", {
    args: ["-s", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  const messages = text.split("\n").filter((line) => line.startsWith("{"))
    .map((line) => String(JSON.parse(line).msg));
  return { code: out.code, messages };
}

/** Paths a hostile value would create if any part of it ran as a command. */
function canaries(dir: string): string[] {
  return ["shell", "backtick", "make", "chained"].map((name) => `${dir}/${name}`);
}

async function existing(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) {
    if (await Deno.stat(path).then(() => true, () => false)) found.push(path);
  }
  return found;
}

Deno.test("make extract passes START and END to the CLI literally", async () => {
  const dir = await Deno.makeTempDir({ prefix: "make_args_" });
  try {
    const [shell, backtick, viaMake, chained] = canaries(dir);
    const start = `2026-11-20' "x" $(touch ${shell}) \`touch ${backtick}\` ` +
      `$(shell touch ${viaMake}); touch ${chained}`;
    const { code, messages } = await make(["extract", `START=${start}`, "END=2026-11-21"]);
    assert.notEqual(code, 0, messages.join("\n"));
    assert.ok(
      messages.some((message) => message.startsWith(`Invalid --start ${JSON.stringify(start)}:`)),
      `the CLI must name the literal START, got:\n${messages.join("\n")}`,
    );
    assert.deepEqual(await existing(canaries(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("make dlq-replay splits ARGS into words and nothing more", async () => {
  const dir = await Deno.makeTempDir({ prefix: "make_args_" });
  try {
    const [shell, backtick, , chained] = canaries(dir);
    // One word the CLI does not take: quotes, substitutions (without spaces), a glob and
    // make's own $(MAKE) must all arrive as written.
    const word = `x'y"$(>${shell})\`>${backtick}\`;>${chained}|*$(MAKE)`;
    const { code, messages } = await make(["dlq-replay", `ARGS=--dry-run ${word}`]);
    assert.notEqual(code, 0, messages.join("\n"));
    assert.ok(
      messages.some((message) => message.startsWith(`Unexpected argument '${word}'`)),
      `the CLI must name the literal word, got:\n${messages.join("\n")}`,
    );
    assert.deepEqual(await existing(canaries(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
