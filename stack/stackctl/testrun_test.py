"""The test runner's own lines, and its refusal of an unknown suite before touching the stack."""

from __future__ import annotations

import pytest

from .summary import Counts
from .testrun import SuiteResult, main, report


def test_unknown_suites_are_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["unit", "nosuch", "other"]) == 2
    assert capsys.readouterr().err == "[test] unknown suite(s): nosuch, other\n"


def test_a_suite_reports_tests_and_dbt_nodes_on_lines_of_their_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report(SuiteResult("dbt", Counts(40, 0, 1), 95.4, "", "", {"PASS": 150, "ERROR": 0}))
    assert capsys.readouterr().out.splitlines() == [
        "[test] dbt: ok — 40 passed, 0 failed, 1 skipped, 95s",
        "[test] dbt: dbt nodes PASS=150 ERROR=0",
    ]


def test_a_failed_suite_says_why_and_shows_its_tail(capsys: pytest.CaptureFixture[str]) -> None:
    reason = "runner failure: no closing line"
    report(SuiteResult("x", Counts(0, 1, 0), 2.0, "first\nlast words", reason))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "[test] x: FAILED — 0 passed, 1 failed, 0 skipped, 2s",
        f"[test] x: {reason}",
    ]
    assert "last words" in lines
