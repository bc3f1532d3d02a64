/**
 * The daily run's dbt step exactly as the batch DAG runs it: the bash script that
 * dags/webshop/commands.py builds for `webshop_batch_dag`'s `dbt_build` task, taken from that
 * module (not re-typed here, so the benchmark follows the DAG when the DAG changes), with its
 * Airflow templates rendered for one interval.
 */
const ROOT = new URL("../../", import.meta.url).pathname;

/** The values the batch DAG's templates need: the run folder and the half-open UTC interval. */
export interface DagTemplateValues {
  runDir: string;
  intervalStart: string;
  intervalEnd: string;
}

/** `YYYY-MM-DD` as Airflow's `ts` filter prints a UTC midnight (`datetime.isoformat()`). */
export function airflowTs(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`Bad day ${day}: want YYYY-MM-DD`);
  return `${day}T00:00:00+00:00`;
}

/** Renders the templates the DAG's dbt command uses; throws if any other template is left. */
export function renderDagCommand(template: string, values: DagTemplateValues): string {
  const rendered = template
    .replace(/\{\{\s*dbt_run_dir\([^)]*\)\s*\}\}/g, values.runDir)
    .replace(/\{\{\s*data_interval_start\s*\|\s*ts\s*\}\}/g, values.intervalStart)
    .replace(/\{\{\s*data_interval_end\s*\|\s*ts\s*\}\}/g, values.intervalEnd);
  const left = /\{\{[^}]*\}\}/.exec(rendered);
  if (left) throw new Error(`Render the batch DAG's dbt command: unknown template ${left[0]}`);
  return rendered;
}

/** The unrendered bash script of the batch DAG's `dbt_build` task, from dags/webshop. */
export async function batchDbtTemplate(): Promise<string> {
  const program = "import sys; sys.path.insert(0, 'dags'); " +
    "from webshop.commands import dbt_build_command; " +
    "sys.stdout.write(dbt_build_command('batch', with_interval=True))";
  const output = await new Deno.Command(Deno.env.get("PYTHON_BIN") || "python3", {
    args: ["-c", program],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `Read the batch DAG's dbt command from dags/webshop/commands.py: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}
