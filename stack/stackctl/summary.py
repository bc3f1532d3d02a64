"""What a test suite's output says: its tests passed, failed and skipped, and dbt's nodes.

A suite is counted from the closing lines its runner prints, never from its exit code alone:
  deno test   `ok | 12 passed (3 steps) | 0 failed | 2 ignored (1 step) | 1 filtered out (4s)`
  pytest      `==== 5 passed, 1 failed, 2 skipped, 1 error in 3.21s ====` (or without `=`)
  plain       `demo: 3 passed, 0 failed` or `3 passed, 0 failed, 1 skipped` (a suite's own checks)
Steps in parentheses are not tests. A test that exists and did not run (Deno's ignored and
filtered out, pytest's skipped, deselected and xfailed) is skipped. dbt's closing line
`Done. PASS=… WARN=… ERROR=… SKIP=… TOTAL=…` counts built nodes, not tests: it is reported on
its own, and an ERROR there fails the suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DENO = re.compile(r"^(?:ok|FAILED) \| \d+ passed\b")
DENO_PART = re.compile(r"^(\d+) (passed|failed|ignored|filtered out|measured)\b")
PYTEST_WORD = r"\d+ (?:passed|failed|skipped|errors?|deselected|xfailed|xpassed|warnings?|rerun)"
PYTEST = re.compile(
    rf"^(?:=+ )?(?P<summary>(?:no tests ran|{PYTEST_WORD}(?:, {PYTEST_WORD})*) in [\d.]+s"
    r"(?: \([\d:]+\))?)(?: =+)?$"
)
PYTEST_PART = re.compile(r"(\d+) (\w+)")
PLAIN = re.compile(
    r"^(?:[\w-]+: )?(?P<passed>\d+) passed, (?P<failed>\d+) failed(?:, (?P<skipped>\d+) skipped)?$"
)
# dbt starts the line, after its own clock at most: a line that only quotes it (a test name) is
# not dbt's.
DBT = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?Done\. (?P<pairs>PASS=\d+(?: [A-Z-]+=\d+)*)")

# Where each word of a closing line goes; words not listed (warnings, measured, rerun) are
# not tests.
DENO_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "ignored": "skipped",
    "filtered out": "skipped",
}
PYTEST_WORDS = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "error": "failed",
    "errors": "failed",
    "skipped": "skipped",
    "deselected": "skipped",
    "xfailed": "skipped",
}


@dataclass
class Counts:
    """Tests of one suite (or of a whole run)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, word: str, number: int) -> None:
        """Adds a number to the column `word` names (passed, failed or skipped)."""
        setattr(self, word, getattr(self, word) + number)

    def merge(self, other: Counts) -> None:
        """Adds another count to this one, column by column."""
        for word in ("passed", "failed", "skipped"):
            self.add(word, getattr(other, word))

    def line(self) -> str:
        """`N passed, N failed, N skipped`."""
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


@dataclass
class Summary:
    """What a suite's output says: tests (None without any closing line) and dbt's nodes."""

    tests: Counts | None = None
    dbt_nodes: dict[str, int] = field(default_factory=dict)


def parse(output: str) -> Summary:
    """Sums every closing line in a suite's output; dbt's node counts apart from the tests."""
    summary = Summary()
    for raw in output.splitlines():
        line = ANSI.sub("", raw).strip()
        dbt = DBT.search(line)
        if dbt:
            for pair in dbt.group("pairs").split():
                key, value = pair.split("=")
                summary.dbt_nodes[key] = summary.dbt_nodes.get(key, 0) + int(value)
            continue
        counted = closing_line(line)
        if counted is None:
            continue
        if summary.tests is None:
            summary.tests = Counts()
        summary.tests.merge(counted)
    return summary


def closing_line(line: str) -> Counts | None:
    """The counts of one runner's closing line, or None when the line is not one."""
    if DENO.match(line):
        counts = Counts()
        for part in line.split(" | ")[1:]:
            match = DENO_PART.match(part)
            if match and match.group(2) in DENO_WORDS:
                counts.add(DENO_WORDS[match.group(2)], int(match.group(1)))
        return counts
    match = PYTEST.match(line)
    if match:
        counts = Counts()
        for number, word in PYTEST_PART.findall(match.group("summary")):
            if word in PYTEST_WORDS:
                counts.add(PYTEST_WORDS[word], int(number))
        return counts
    match = PLAIN.match(line)
    if match:
        return Counts(
            int(match.group("passed")), int(match.group("failed")), int(match.group("skipped") or 0)
        )
    return None


def judge(summary: Summary, code: int, timed_out: bool, timeout_s: int) -> tuple[Counts, str]:
    """A suite's counts and, when it failed outside its counted tests, why (else "")."""
    tests = Counts(**vars(summary.tests)) if summary.tests else Counts()
    reason = ""
    if timed_out:
        reason = f"killed after its {timeout_s}s timeout"
    elif summary.tests is None:
        reason = (
            f"runner failure: the suite exited {code} without a closing line of deno test, "
            "pytest or `N passed, N failed` (counted as 1 failed)"
        )
    elif code != 0 and tests.failed == 0:
        reason = f"exited {code} although no counted test failed (setup, teardown or crash)"
    elif summary.dbt_nodes.get("ERROR", 0) > 0 and tests.failed == 0:
        reason = f"dbt reported {summary.dbt_nodes['ERROR']} node(s) in error"
    if timed_out:
        tests.failed += 1
    elif reason:
        tests.failed = max(tests.failed, 1)
    return tests, reason


def dbt_line(nodes: dict[str, int]) -> str:
    """dbt's node counts as `PASS=.. WARN=.. ERROR=.. SKIP=.. TOTAL=..`, in dbt's own order."""
    return " ".join(f"{key}={value}" for key, value in nodes.items())
