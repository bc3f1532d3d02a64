"""`make test`: every suite in tests/suites.json against an isolated stack, one line of truth.

1. Brings up the `test` instance (stack/instances/test.env: own ports, own data directory, no
   continuous workers) from a clean state, so a user's running `dev` stack is never touched.
2. Gives each suite a fresh database named after it (dropped, re-created and migrated), so
   suites never depend on one another's leftovers, then runs the suite's command with a hard
   timeout and the instance environment.
3. Prints each suite's wall time and counts (and dbt's built nodes on a line of their own),
   tears the instance down, and ends with one line `N passed, N failed, N skipped` (tests, as
   counted from each suite's own runner: see summary.py).

  python3 -m stack.stackctl.testrun [SUITE...] [--keep]
  (--keep: reuse a running test instance and leave it up)
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

from .config import ROOT, load_config, process_env
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


def main(argv: list[str]) -> int:
    """Runs the chosen suites (every suite when none is named); exit 0 only when all passed."""
    keep = "--keep" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    suites = json.loads((ROOT / "tests" / "suites.json").read_text())["suites"]
    unknown = set(wanted) - {s["name"] for s in suites}
    if unknown:
        print(f"[test] unknown suite(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if wanted:
        suites = [s for s in suites if s["name"] in wanted]
    # STACK_TEST_INSTANCE=bench runs the suites in another isolated instance (e.g. while a
    # developer keeps the `test` instance busy); the default is `test`.
    cfg = load_config(os.environ.get("STACK_TEST_INSTANCE", "test"))
    total_started = time.monotonic()
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
            install(cfg)  # every tool, Airflow's virtualenv included (DAG tests)
            prepare_secrets(cfg)
            up(cfg, [])
        except StackError as error:
            print(f"[test] the test stack did not come up: {error}", flush=True)
            print(Counts(failed=1).line())
            return 1
        print(f"[test] stack up in {time.monotonic() - started:.0f}s; logs in {logdir}", flush=True)
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
    print("\n[test] suite                 passed  failed skipped   wall")
    total = Counts()
    for r in results:
        print(
            f"[test] {r.name:<20} {r.tests.passed:>7} {r.tests.failed:>7} {r.tests.skipped:>7}"
            f" {r.elapsed:>6.0f}s"
        )
        total.merge(r.tests)
    print(f"[test] total wall time {time.monotonic() - total_started:.0f}s")
    print(total.line())
    return 0 if total.failed == 0 and results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
