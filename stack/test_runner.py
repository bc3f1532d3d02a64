#!/usr/bin/env python3
"""`make test`: every suite in tests/suites.json against an isolated stack, one line of truth.

1. Brings up the `test` instance (stack/instances/test.env: own ports, own data directory, no
   continuous workers) from a clean state, so a user's running `dev` stack is never touched.
2. Gives each suite a fresh database named after it (dropped, re-created and migrated), so
   suites never depend on one another's leftovers, then runs the suite's command with a hard
   timeout and the instance environment.
3. Prints each suite's wall time and counts, tears the instance down, and ends with one line
   `N passed, N failed` (tests, as counted by each suite's own runner).

  python3 stack/test_runner.py [SUITE...] [--keep]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "stack"))
import stackctl

# Closing lines of the runners our suites use, newest match wins.
PATTERNS = [
    # deno test: "ok | 12 passed (3 steps) | 0 failed (4s)"
    re.compile(
        r"^(?:ok|FAILED) \| (?P<passed>\d+) passed(?: \(\d+ steps?\))? \| (?P<failed>\d+) failed"
    ),
    # pytest: "==== 5 passed, 1 failed, 2 skipped in 3.2s ====" (any order)
    re.compile(r"^=+ (?P<summary>.*\bin [\d.]+s.*) =+$"),
    # dbt: "Done. PASS=40 WARN=2 ERROR=0 SKIP=0 NO-OP=0 TOTAL=42"
    re.compile(r"Done\. PASS=(?P<passed>\d+) WARN=(?P<warn>\d+) ERROR=(?P<failed>\d+)"),
    # any suite's own plain line: "suite: 3 passed, 0 failed"
    re.compile(r"^(?:\w+: )?(?P<passed>\d+) passed, (?P<failed>\d+) failed(?:, \d+ skipped)?$"),
]


def count(output: str) -> tuple[int, int] | None:
    """(passed, failed) summed over every closing line in a suite's output."""
    passed = failed = 0
    found = False
    for line in output.splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
        for pattern in PATTERNS:
            match = pattern.search(line)
            if not match:
                continue
            groups = match.groupdict()
            if "summary" in groups and groups["summary"] is not None:
                summary = groups["summary"]
                p = re.search(r"(\d+) passed", summary)
                f = re.search(r"(\d+) failed", summary)
                e = re.search(r"(\d+) errors?", summary)
                if not (p or f or e):
                    continue
                passed += int(p.group(1)) if p else 0
                failed += (int(f.group(1)) if f else 0) + (int(e.group(1)) if e else 0)
            else:
                passed += int(groups["passed"])
                failed += int(groups["failed"])
            found = True
            break
    return (passed, failed) if found else None


def psql(cfg: dict[str, str], sql: str) -> None:
    env = stackctl.process_env(cfg)
    env["PGDATABASE"] = "postgres"
    subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def fresh_database(cfg: dict[str, str], name: str) -> None:
    psql(cfg, f'drop database if exists "{name}" with (force)')
    env = stackctl.process_env(cfg)
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
        raise stackctl.StackError(f"migrating database {name} failed:\n{result.stderr[-3000:]}")


def run_suite(cfg: dict[str, str], suite: dict, logdir: Path) -> tuple[int, int, float, str]:
    name = suite["name"]
    db = re.sub(r"[^a-z0-9_]", "_", f"test_{name}".lower())
    started = time.monotonic()
    logfile = logdir / f"{name}.log"
    try:
        fresh_database(cfg, db)
    except (stackctl.StackError, subprocess.CalledProcessError) as error:
        logfile.write_text(str(error))
        return 0, 1, time.monotonic() - started, str(error)[-2000:]
    env = stackctl.process_env(cfg)
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
    counted = count(output)
    passed, failed = counted if counted else (0, 0)
    if timed_out:
        output += f"\n[test] suite {name} killed after its {timeout}s timeout\n"
        failed += 1
    elif code != 0 and failed == 0:
        failed = 1  # the suite failed outside any counted test (setup, teardown, crash)
    elif code == 0 and counted is None:
        passed = 1  # a suite without a runner line: judged by its exit code alone
    return passed, failed, elapsed, output


def main(argv: list[str]) -> int:
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
    cfg = stackctl.load_config(os.environ.get("STACK_TEST_INSTANCE", "test"))
    total_started = time.monotonic()
    results: list[tuple[str, int, int, float]] = []
    logdir = Path(cfg["STATE_DIR"]).parent / f"{cfg['STACK_INSTANCE']}-test-logs"
    try:
        if not keep:
            stackctl.cmd_down(cfg)
            shutil.rmtree(cfg["STATE_DIR"], ignore_errors=True)
        shutil.rmtree(logdir, ignore_errors=True)
        logdir.mkdir(parents=True)
        started = time.monotonic()
        try:
            stackctl.install(cfg)  # every tool, Airflow's virtualenv included (DAG tests)
            stackctl.cmd_up(cfg, [])
        except stackctl.StackError as error:
            print(f"[test] the test stack did not come up: {error}", flush=True)
            print("0 passed, 1 failed")
            return 1
        print(f"[test] stack up in {time.monotonic() - started:.0f}s; logs in {logdir}", flush=True)
        for suite in suites:
            print(
                f"[test] {suite['name']}: running (timeout {suite.get('timeout_s', 600)}s)",
                flush=True,
            )
            passed, failed, elapsed, output = run_suite(cfg, suite, logdir)
            results.append((suite["name"], passed, failed, elapsed))
            state = "ok" if failed == 0 else "FAILED"
            print(
                f"[test] {suite['name']}: {state} — {passed} passed, {failed} failed, "
                f"{elapsed:.0f}s",
                flush=True,
            )
            if failed:
                tail = "\n".join(output.splitlines()[-150:])
                print(f"----- {suite['name']} (last 150 lines) -----\n{tail}\n-----", flush=True)
    finally:
        if not keep:
            stackctl.cmd_down(cfg)
    print("\n[test] suite                 passed  failed   wall")
    for name, passed, failed, elapsed in results:
        print(f"[test] {name:<20} {passed:>7} {failed:>7} {elapsed:>6.0f}s")
    print(f"[test] total wall time {time.monotonic() - total_started:.0f}s")
    passed = sum(r[1] for r in results)
    failed = sum(r[2] for r in results)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
