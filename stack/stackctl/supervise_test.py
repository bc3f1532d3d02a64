"""Supervision of a real dummy daemon: start, health, a taken port, failures, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import supervise
from .proc import StackError

# A daemon that reports ready through a file, then sleeps until it is stopped.
SLEEPER = {
    "name": "sleeper",
    "kind": "daemon",
    "command": [
        sys.executable,
        "-c",
        "import pathlib, time; pathlib.Path('${STATE_DIR}/ready').touch(); time.sleep(120)",
    ],
    "health": ["test", "-e", "${STATE_DIR}/ready"],
    "env": {"SLEEPER_HOME": "${STATE_DIR}"},
}


@pytest.fixture
def sleeper(cfg: dict[str, str]) -> Iterator[dict]:
    """The dummy daemon's manifest entry; it is stopped whatever the test did."""
    Path(cfg["STATE_DIR"]).mkdir(parents=True)
    yield SLEEPER
    supervise.stop_daemon(SLEEPER, cfg)


def test_command_and_health_are_expanded(cfg: dict[str, str]) -> None:
    assert supervise.service_command(SLEEPER, cfg, "health") == [
        "test",
        "-e",
        f"{cfg['STATE_DIR']}/ready",
    ]
    env = supervise.service_env(SLEEPER, cfg)
    assert env["SLEEPER_HOME"] == cfg["STATE_DIR"]
    assert env["PATH"].startswith(f"{cfg['DENO_HOME']}/bin")


def test_a_daemon_starts_healthy_is_not_started_twice_and_stops(
    cfg: dict[str, str], sleeper: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    supervise.start_daemon(sleeper, cfg)
    pid = supervise.running_pid(cfg, "sleeper")
    assert pid is not None and supervise.pid_alive(pid)
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"WEBSHOP_SERVICE=pytest/sleeper" in environ
    supervise.start_daemon(sleeper, cfg)
    assert supervise.running_pid(cfg, "sleeper") == pid
    assert "sleeper: already running and healthy" in capsys.readouterr().out
    supervise.stop_daemon(sleeper, cfg)
    assert not supervise.pid_alive(pid)
    assert supervise.running_pid(cfg, "sleeper") is None
    assert not (Path(cfg["STATE_DIR"]) / "run" / "sleeper.pid").exists()


def test_a_dead_unreaped_service_counts_as_stopped(cfg: dict[str, str]) -> None:
    # A killed child of this process stays a zombie until it is waited for; a restart by another
    # process must not take it for the running service.
    marker = f"{cfg['STACK_INSTANCE']}/zombie"
    child = subprocess.Popen(["sleep", "60"], env={**os.environ, "WEBSHOP_SERVICE": marker})
    # Until the child has exec'd, /proc shows the parent's environment, without the marker.
    deadline = time.monotonic() + 5
    environ = Path(f"/proc/{child.pid}/environ")
    while marker.encode() not in environ.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    pidfile = Path(cfg["STATE_DIR"]) / "run" / "zombie.pid"
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(str(child.pid))
    try:
        assert supervise.running_pid(cfg, "zombie") == child.pid
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while supervise.pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert Path(f"/proc/{child.pid}").exists(), "the zombie must still be unreaped here"
        assert supervise.running_pid(cfg, "zombie") is None
        assert not pidfile.exists()
    finally:
        child.kill()
        child.wait()


def test_a_taken_port_is_named_with_its_setting(cfg: dict[str, str], sleeper: dict) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert supervise.port_owner(port) is not None
        with pytest.raises(StackError) as raised:
            supervise.start_daemon(
                {**sleeper, "port": "SLEEPER_PORT"}, {**cfg, "SLEEPER_PORT": str(port)}
            )
    message = str(raised.value)
    assert f"sleeper: port {port} (SLEEPER_PORT) is already taken by: " in message
    assert "set SLEEPER_PORT in .env" in message
    assert supervise.running_pid(cfg, "sleeper") is None
    assert supervise.port_owner(port) is None


def test_a_daemon_that_exits_while_starting_fails_with_its_log(cfg: dict[str, str]) -> None:
    broken = {
        "name": "broken",
        "kind": "daemon",
        "command": [sys.executable, "-c", "import sys; print('no config found'); sys.exit(3)"],
        "health": ["false"],
    }
    with pytest.raises(StackError) as raised:
        supervise.start_daemon(broken, cfg)
    assert "broken: exited with code 3 while starting" in str(raised.value)
    assert "no config found" in str(raised.value)


def test_a_failed_job_reports_its_exit_code_and_log(cfg: dict[str, str]) -> None:
    job = {"name": "job", "kind": "job", "command": ["sh", "-c", "echo migrating; exit 5"]}
    with pytest.raises(StackError, match=r"job: failed with exit code 5(.|\n)*migrating"):
        supervise.run_job(job, cfg)
    supervise.run_job({**job, "command": ["true"]}, cfg)


def test_a_reused_pid_without_our_marker_is_not_ours(cfg: dict[str, str]) -> None:
    pidfile, _ = supervise.paths(cfg, "ghost")
    pidfile.write_text(f"{os.getpid()}\n")  # alive, but not started by the stack manager
    assert supervise.running_pid(cfg, "ghost") is None
    assert not pidfile.exists()


# A leader that forks a child and exits at once on SIGTERM; the child takes a second to finish
# (or, with IGNORE=1, ignores SIGTERM and needs the SIGKILL fallback).
FORKER = {
    "name": "forker",
    "kind": "daemon",
    "command": [
        "bash",
        "-c",
        "(trap 'sleep 1; exit 0' TERM; [ \"$IGNORE\" = 1 ] && trap '' TERM; "
        "while :; do sleep 0.1; done) & echo $! > '${STATE_DIR}/child'; "
        "trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ],
    "health": ["test", "-s", "${STATE_DIR}/child"],
    "stop_timeout_s": 2,
}


@pytest.mark.parametrize("ignore", ["0", "1"])
def test_stop_waits_for_the_whole_process_group(cfg: dict[str, str], ignore: str) -> None:
    Path(cfg["STATE_DIR"]).mkdir(parents=True)
    svc = {**FORKER, "env": {"IGNORE": ignore}}
    leader = None
    try:
        supervise.start_daemon(svc, cfg)
        leader = supervise.running_pid(cfg, "forker")
        assert leader is not None
        child = int((Path(cfg["STATE_DIR"]) / "child").read_text())
        assert child in supervise.group_members(leader)
        supervise.stop_daemon(svc, cfg)
        assert supervise.group_members(leader) == []
        assert not supervise.pid_alive(child)
    finally:
        if leader is not None:
            supervise.kill_group(leader, signal.SIGKILL)
