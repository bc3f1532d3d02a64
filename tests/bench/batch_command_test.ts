import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { airflowTs, renderDagCommand } from "./batch_command.ts";

const values = {
  runDir: "/tmp/run",
  intervalStart: "2024-01-31T00:00:00+00:00",
  intervalEnd: "2024-02-01T00:00:00+00:00",
};

Deno.test("airflowTs prints a UTC midnight as Airflow's ts filter does", () => {
  assertEquals(airflowTs("2024-02-29"), "2024-02-29T00:00:00+00:00");
  assertThrows(() => airflowTs("2024-2-29"), RangeError);
});

Deno.test("renderDagCommand fills the run folder and the interval", () => {
  const template = 'run_dir="{{ dbt_run_dir(dag.dag_id, run_id, task.task_id) }}"\n' +
    'dbt build --selector batch --vars \'{"interval_start": "{{ data_interval_start | ts }}", ' +
    '"interval_end": "{{ data_interval_end | ts }}"}\'';
  assertEquals(
    renderDagCommand(template, values),
    'run_dir="/tmp/run"\n' +
      'dbt build --selector batch --vars \'{"interval_start": "2024-01-31T00:00:00+00:00", ' +
      '"interval_end": "2024-02-01T00:00:00+00:00"}\'',
  );
});

Deno.test("renderDagCommand refuses a template it does not know", () => {
  assertThrows(
    () => renderDagCommand("echo {{ ds }} {{ data_interval_end | ts }}", values),
    /unknown template \{\{ ds \}\}/,
  );
});
