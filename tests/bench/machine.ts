/** What the benchmarks say about the machine they ran on. */

/** The CPU model and count, e.g. "Intel(R) Xeon(R) Processor, 2 logical CPUs". */
export async function cpuDescription(): Promise<string> {
  // Deno reads /proc/cpuinfo only with --allow-all: ask `cat` instead.
  const cpuinfo = await new Deno.Command("cat", { args: ["/proc/cpuinfo"], stdout: "piped" })
    .output().then((out) => new TextDecoder().decode(out.stdout), () => "");
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU";
  return `${model}, ${navigator.hardwareConcurrency} logical CPUs`;
}
