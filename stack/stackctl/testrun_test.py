"""The test runner's own lines, and its refusal of an unknown suite before touching the stack."""

from __future__ import annotations

import pytest

from . import testrun
from .config import load_manifest
from .summary import Counts
from .testrun import SuiteResult, instance_services, main, plan, report, summary


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


SUITES = [
    {"name": "unit"},
    {"name": "cluster", "instance": "cluster"},
    {"name": "chaos", "instance": "cluster", "opt_in": "make chaos"},
    {"name": "streaming"},
]


def names(groups: list[tuple[str, list[dict]]]) -> list[tuple[str, list[str]]]:
    return [(instance, [s["name"] for s in suites]) for instance, suites in groups]


def test_plan_runs_the_default_instance_first_and_leaves_opt_in_suites_out() -> None:
    groups, left_out = plan(SUITES, [], "test")
    assert names(groups) == [("test", ["unit", "streaming"]), ("cluster", ["cluster"])]
    assert [s["name"] for s in left_out] == ["chaos"]


def test_plan_runs_an_opt_in_suite_when_named_and_only_the_instances_needed() -> None:
    groups, left_out = plan(SUITES, ["chaos"], "test")
    assert (names(groups), left_out) == ([("cluster", ["chaos"])], [])
    groups, _ = plan(SUITES, ["streaming", "cluster"], "bench")
    assert names(groups) == [("bench", ["streaming"]), ("cluster", ["cluster"])]


def test_an_instance_leaves_out_the_services_its_settings_name(cfg: dict[str, str]) -> None:
    cfg["STACK_PROFILE"] = "test"
    everything = [s["name"] for s in load_manifest(cfg)]
    assert instance_services(cfg, {}) == []  # `up` reads [] as all of the instance's services
    kept = instance_services(cfg, {"without": ["fakestore"]})
    assert "fakestore" in everything
    assert kept == [name for name in everything if name != "fakestore"]


def test_the_summary_lists_an_opt_in_suite_as_not_run(capsys: pytest.CaptureFixture[str]) -> None:
    results = [
        SuiteResult("unit", Counts(10, 0, 1), 12.0, ""),
        SuiteResult("x", Counts(2, 1), 3.0, ""),
    ]
    total = summary(results, [SUITES[2]], 20.2)
    assert (total.passed, total.failed, total.skipped) == (12, 1, 1)
    assert capsys.readouterr().out.splitlines()[1:] == [
        "[test] suite                 passed  failed skipped   wall",
        "[test] unit                      10       0       1     12s",
        "[test] x                          2       1       0      3s",
        "[test] chaos                not run (opt-in: make chaos)",
        "[test] total wall time 20s",
        "12 passed, 1 failed, 1 skipped",
    ]


def test_make_test_runs_the_cluster_suite_last_in_its_instance_and_never_chaos(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, list[str], dict]] = []

    def fake_run_instance(instance: str, suites: list[dict], settings: dict, keep: bool):
        calls.append((instance, [s["name"] for s in suites], settings))
        return [SuiteResult(s["name"], Counts(1, 0, 0), 1.0, "") for s in suites]

    monkeypatch.setattr(testrun, "run_instance", fake_run_instance)
    monkeypatch.delenv("STACK_TEST_INSTANCE", raising=False)
    assert main([]) == 0
    assert [instance for instance, _, _ in calls] == ["test", "cluster"]
    assert calls[1][1:] == (["cluster"], {**calls[1][2], "without": ["fakestore"]})
    assert "chaos" not in calls[0][1]
    assert "[test] chaos                not run (opt-in: make chaos)" in capsys.readouterr().out


def test_an_instance_installs_every_part_chromium_included_before_its_suites(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    monkeypatch.setattr(testrun, "load_config", lambda _instance: cfg)
    monkeypatch.setattr(testrun, "down", lambda _cfg: None)
    monkeypatch.setattr(testrun, "prepare_secrets", lambda _cfg: None)
    monkeypatch.setattr(testrun, "up", lambda _cfg, _services: events.append("up"))
    monkeypatch.setattr(
        testrun, "install", lambda _cfg, parts=None: events.append(f"install {parts}")
    )

    def fake_suite(_cfg: dict, suite: dict, _logdir: object) -> SuiteResult:
        events.append(f"suite {suite['name']}")
        return SuiteResult(suite["name"], Counts(1, 0, 0), 1.0, "")

    monkeypatch.setattr(testrun, "run_suite", fake_suite)
    testrun.run_instance("demo", [{"name": "demo"}], {}, keep=False)
    # None: every part, so the browser part (Debian's chromium) too
    assert events == ["install None", "up", "suite demo"]
