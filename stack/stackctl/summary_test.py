"""Counting a suite from its runner's closing lines, and the verdict on suites without one."""

from __future__ import annotations

import pytest

from .summary import Counts, Summary, closing_line, dbt_line, judge, parse


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # deno test, as Deno 2 prints it: steps in parentheses are not tests
        ("ok | 12 passed (3 steps) | 0 failed (4s)", Counts(12, 0, 0)),
        ("ok | 2 passed (2 steps) | 0 failed | 1 ignored (1 step) (4ms)", Counts(2, 0, 1)),
        (
            "FAILED | 2 passed (3 steps) | 2 failed (1 step) | 1 ignored (1 step) (60ms)",
            Counts(2, 2, 1),
        ),
        ("ok | 1 passed | 0 failed | 2 filtered out (6ms)", Counts(1, 0, 2)),
        # pytest, verbose and quiet; errors fail, deselected and xfailed did not run
        ("===== 5 passed, 1 failed, 2 skipped in 3.21s =====", Counts(5, 1, 2)),
        (
            "== 1 failed, 4 passed, 1 xfailed, 1 xpassed, 3 deselected, 2 warnings, 2 errors "
            "in 161.02s (0:02:41) ==",
            Counts(5, 3, 4),
        ),
        ("3 passed in 0.20s", Counts(3, 0, 0)),
        ("==== no tests ran in 0.01s ====", Counts(0, 0, 0)),
        # a suite's own checks
        ("demo: 7 passed, 1 failed", Counts(7, 1, 0)),
        ("4 passed, 0 failed, 2 skipped", Counts(4, 0, 2)),
    ],
)
def test_closing_lines_of_each_runner(line: str, expected: Counts) -> None:
    assert closing_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "200 events landed in 2.1s",
        "[test] unit: ok — 3 passed, 0 failed, 0 skipped, 4s",
        "ok | nothing",
        "Done. PASS=40 WARN=0 ERROR=0 SKIP=0 TOTAL=40",
    ],
)
def test_other_lines_are_not_closing_lines(line: str) -> None:
    assert closing_line(line) is None


def test_dbt_nodes_are_reported_apart_from_tests() -> None:
    output = "\n".join(
        [
            "\x1b[32m12:00:01  Done. PASS=150 WARN=2 ERROR=0 SKIP=1 NO-OP=0 TOTAL=153\x1b[0m",
            "\x1b[0m\x1b[32mok\x1b[0m | 41 passed (12 steps) | 0 failed (95s)",
        ]
    )
    summary = parse(output)
    assert summary.tests == Counts(41, 0, 0)
    assert dbt_line(summary.dbt_nodes) == "PASS=150 WARN=2 ERROR=0 SKIP=1 NO-OP=0 TOTAL=153"


def test_a_line_quoting_dbt_is_not_dbt() -> None:
    output = (
        "stack/stackctl/summary_test.py::test_x[Done. PASS=40 WARN=0 ERROR=0 TOTAL=40] PASSED\n"
        "Done. PASS=3 WARN=0 ERROR=1 SKIP=0 TOTAL=4"
    )
    assert parse(output).dbt_nodes == {"PASS": 3, "WARN": 0, "ERROR": 1, "SKIP": 0, "TOTAL": 4}


def test_every_closing_line_of_a_suite_is_summed() -> None:
    output = "ok | 3 passed | 0 failed (1s)\nnoise\n== 2 passed, 1 skipped in 1.0s =="
    assert parse(output).tests == Counts(5, 0, 1)


def test_output_without_a_closing_line_counts_nothing() -> None:
    assert parse("all good\n").tests is None


def test_a_suite_without_a_summary_is_a_runner_failure() -> None:
    tests, reason = judge(Summary(), 0, False, 60)
    assert tests == Counts(0, 1, 0)
    assert reason.startswith("runner failure: the suite exited 0 without a closing line")


def test_a_clean_suite_keeps_its_counts() -> None:
    assert judge(Summary(Counts(3, 0, 2)), 0, False, 60) == (Counts(3, 0, 2), "")


def test_a_nonzero_exit_without_failed_tests_fails_once() -> None:
    tests, reason = judge(Summary(Counts(3, 0, 0)), 1, False, 60)
    assert tests == Counts(3, 1, 0) and "exited 1" in reason
    # failed tests already explain the exit code
    assert judge(Summary(Counts(3, 2, 0)), 1, False, 60) == (Counts(3, 2, 0), "")


def test_a_timeout_adds_a_failure_to_what_ran() -> None:
    tests, reason = judge(Summary(Counts(3, 1, 0)), -9, True, 300)
    assert tests == Counts(3, 2, 0) and reason == "killed after its 300s timeout"


def test_dbt_errors_fail_the_suite_even_when_its_tests_pass() -> None:
    summary = Summary(Counts(10, 0, 0), {"PASS": 5, "ERROR": 2})
    tests, reason = judge(summary, 0, False, 60)
    assert tests == Counts(10, 1, 0) and reason == "dbt reported 2 node(s) in error"


def test_the_line_reads_passed_failed_skipped() -> None:
    total = Counts(1, 2, 3)
    total.merge(Counts(10, 0, 1))
    assert total.line() == "11 passed, 2 failed, 4 skipped"
