"""`make test`: every suite in tests/suites.json against an isolated stack, one line of truth.

1. Brings up the `test` instance (stack/instances/test.env: own ports, own data directory, no
   continuous workers) from a clean state, so a user's running `dev` stack is never touched.
   A suite with `"instance": "cluster"` runs in that instance instead: each instance is brought
   up (only the services suites.json's `instances` leaves in) for its suites alone, after the
   previous one is down, so two stacks never share the machine.
2. Gives each suite a fresh database named after it (dropped, re-created and migrated), so
   suites never depend on one another's leftovers, then runs the suite's command with a hard
   timeout and the instance environment.
3. Prints each suite's wall time and counts (and dbt's built nodes on a line of their own),
   tears the instance down, and ends with one line `N passed, N failed, N skipped` (tests, as
   counted from each suite's own runner: see summary.py). An opt-in suite (`"opt_in"`: how to
   run it, e.g. `make chaos`) runs only when named, and the summary lists it as not run.

  python3 -m stack.stackctl.testrun [SUITE...] [--keep]
  (--keep: reuse a running instance and leave it up)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import ROOT, load_config, load_manifest, process_env
from .install import install
from .proc import StackError
from .secrets import prepare_secrets
from .summary import Counts, dbt_line, judge, parse
from .supervise import down, up


def psql(cfg: dict[str, str], sql: str) -> None:
    """Runs one statement against the instance's `postgres` database."""
    env = process_env(cfg)
    env["PGDATABASE"] = "postgres"
    subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def fresh_database(cfg: dict[str, str], name: str) -> None:
    """Drops and re-creates a suite's database, migrated to the newest version."""
    psql(cfg, f'drop database if exists "{name}" with (force)')
    env = process_env(cfg)
    env.update({"WAREHOUSE_DB": name, "PGDATABASE": name})
    result = subprocess.run(
        [cfg["DENO_BIN"], "task", "-q", "migrate"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"migrating database {name} failed:\n{result.stderr[-3000:]}")


@dataclass
class SuiteResult:
    """One suite's outcome: its tests, dbt's nodes, why it failed outside its tests, wall time."""

    name: str
    tests: Counts
    elapsed: float
    output: str
    reason: str = ""
    dbt_nodes: dict[str, int] = field(default_factory=dict)


def run_suite(cfg: dict[str, str], suite: dict, logdir: Path) -> SuiteResult:
    """Runs one suite in a fresh database with its hard timeout; counts it from its output."""
    name = suite["name"]
    db = re.sub(r"[^a-z0-9_]", "_", f"test_{name}".lower())
    started = time.monotonic()
    logfile = logdir / f"{name}.log"
    try:
        fresh_database(cfg, db)
    except (StackError, subprocess.CalledProcessError) as error:
        logfile.write_text(str(error))
        return SuiteResult(
            name,
            Counts(failed=1),
            time.monotonic() - started,
            str(error)[-2000:],
            f"preparing database {db} failed",
        )
    env = process_env(cfg)
    env.update(
        {"PGDATABASE": db, "WAREHOUSE_DB": db, "TEST_SUITE": name, "TEST_LOG_DIR": str(logdir)}
    )
    env.update(suite.get("env", {}))
    timeout = int(suite.get("timeout_s", 600))
    with open(logfile, "w") as out:
        proc = subprocess.Popen(
            suite["command"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code, timed_out = -9, True
    elapsed = time.monotonic() - started
    output = logfile.read_text(errors="replace")
    summary = parse(output)
    tests, reason = judge(summary, code, timed_out, timeout)
    if reason:
        output += f"\n[test] suite {name}: {reason}\n"
    return SuiteResult(name, tests, elapsed, output, reason, summary.dbt_nodes)


def report(result: SuiteResult) -> None:
    """The suite's lines: verdict and counts, dbt's nodes apart, the log tail when it failed."""
    state = "ok" if result.tests.failed == 0 else "FAILED"
    print(
        f"[test] {result.name}: {state} — {result.tests.line()}, {result.elapsed:.0f}s",
        flush=True,
    )
    if result.reason:
        print(f"[test] {result.name}: {result.reason}", flush=True)
    if result.dbt_nodes:
        print(f"[test] {result.name}: dbt nodes {dbt_line(result.dbt_nodes)}", flush=True)
    if result.tests.failed:
        tail = "\n".join(result.output.splitlines()[-150:])
        print(f"----- {result.name} (last 150 lines) -----\n{tail}\n-----", flush=True)


def plan(
    suites: list[dict], wanted: list[str], default_instance: str
) -> tuple[list[tuple[str, list[dict]]], list[dict]]:
    """The suites to run grouped by instance (the default instance first, then in file order),
    and the opt-in suites left out (those not named)."""
    if wanted:
        chosen, left_out = [s for s in suites if s["name"] in wanted], []
    else:
        chosen = [s for s in suites if not s.get("opt_in")]
        left_out = [s for s in suites if s.get("opt_in")]
    groups: dict[str, list[dict]] = {}
    for suite in chosen:
        groups.setdefault(suite.get("instance", default_instance), []).append(suite)
    order = sorted(groups, key=lambda name: name != default_instance)
    return [(name, groups[name]) for name in order], left_out


def instance_services(cfg: dict[str, str], settings: dict) -> list[str]:
    """The services to bring up: the instance's own, minus those `settings` leaves out (an
    empty list means all of them, as `up` reads it)."""
    without = set(settings.get("without", []))
    if not without:
        return []
    return [svc["name"] for svc in load_manifest(cfg) if svc["name"] not in without]


def run_instance(
    instance: str, suites: list[dict], settings: dict, keep: bool
) -> list[SuiteResult]:
    """Brings `instance` up, runs its suites, takes it down (unless --keep); their results."""
    cfg = load_config(instance)
    results: list[SuiteResult] = []
    logdir = Path(cfg["STATE_DIR"]).parent / f"{cfg['STACK_INSTANCE']}-test-logs"
    try:
        if not keep:
            down(cfg)
            shutil.rmtree(cfg["STATE_DIR"], ignore_errors=True)
        shutil.rmtree(logdir, ignore_errors=True)
        logdir.mkdir(parents=True)
        started = time.monotonic()
        try:
            # every tool: Airflow's virtualenv (DAG tests), Superset's and chromium (demo suite)
            install(cfg)
            prepare_secrets(cfg)
            up(cfg, instance_services(cfg, settings))
        except StackError as error:
            print(f"[test] the {instance} stack did not come up: {error}", flush=True)
            reason = f"instance {instance} did not come up"
            return [SuiteResult(f"({instance} up)", Counts(failed=1), 0.0, str(error), reason)]
        print(
            f"[test] {instance} stack up in {time.monotonic() - started:.0f}s; logs in {logdir}",
            flush=True,
        )
        for suite in suites:
            print(
                f"[test] {suite['name']}: running (timeout {suite.get('timeout_s', 600)}s)",
                flush=True,
            )
            results.append(run_suite(cfg, suite, logdir))
            report(results[-1])
    finally:
        if not keep:
            down(cfg)
    return results


def summary(results: list[SuiteResult], left_out: list[dict], wall: float) -> Counts:
    """The closing table: a row per suite run, a row per opt-in suite not run, the totals."""
    print("\n[test] suite                 passed  failed skipped   wall")
    total = Counts()
    for r in results:
        print(
            f"[test] {r.name:<20} {r.tests.passed:>7} {r.tests.failed:>7} {r.tests.skipped:>7}"
            f" {r.elapsed:>6.0f}s"
        )
        total.merge(r.tests)
    for suite in left_out:
        print(f"[test] {suite['name']:<20} not run (opt-in: {suite['opt_in']})")
    print(f"[test] total wall time {wall:.0f}s")
    print(total.line())
    return total


def main(argv: list[str]) -> int:
    """Runs the chosen suites (every suite but the opt-in ones when none is named); exit 0 only
    when all passed."""
    keep = "--keep" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    spec = json.loads((ROOT / "tests" / "suites.json").read_text())
    suites = spec["suites"]
    unknown = set(wanted) - {s["name"] for s in suites}
    if unknown:
        print(f"[test] unknown suite(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    # STACK_TEST_INSTANCE=bench runs the suites in another isolated instance (e.g. while a
    # developer keeps the `test` instance busy); the default is `test`.
    groups, left_out = plan(suites, wanted, os.environ.get("STACK_TEST_INSTANCE", "test"))
    total_started = time.monotonic()
    results: list[SuiteResult] = []
    for instance, chosen in groups:
        settings = spec.get("instances", {}).get(instance, {})
        results += run_instance(instance, chosen, settings, keep)
    total = summary(results, left_out, time.monotonic() - total_started)
    return 0 if total.failed == 0 and results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
