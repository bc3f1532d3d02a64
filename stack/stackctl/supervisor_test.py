"""The instance supervisor: its generated configuration, and a real supervisord restarting a
dummy service after SIGKILL, giving up on a crash loop, and keeping an explicit stop."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import supervise, supervisor
from .config import load_config
from .proc import StackError


def wait_until(check: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def scfg(cfg: dict[str, str]) -> Iterator[dict[str, str]]:
    """An instance configuration with a short state dir (unix socket paths are short)."""
    venv = os.environ.get("SUPERVISOR_VENV") or load_config("test")["SUPERVISOR_VENV"]
    state = tempfile.mkdtemp(prefix="sv-")
    yield {**cfg, "STATE_DIR": state, "SUPERVISOR_VENV": venv}
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def running(scfg: dict[str, str]) -> Iterator[dict[str, str]]:
    """A live supervisord for the instance (needs the supervisor virtualenv); stopped after."""
    if not (Path(scfg["SUPERVISOR_VENV"]) / "bin" / "supervisord").exists():
        pytest.skip("supervisor virtualenv not installed (python3 -m stack.stackctl install)")
    supervise.ensure_supervisord(scfg)
    yield scfg
    supervise.stop_daemon(supervise.supervisord_service(scfg), scfg)


def sleeper(name: str, code: str = "import time; time.sleep(300)") -> dict:
    return {
        "name": name,
        "kind": "daemon",
        "supervised": True,
        "command": [sys.executable, "-c", code],
        "health": ["true"],
        "stop_signal": "SIGTERM",
        "env": {"SLEEPER_NOTE": '100% ${STACK_INSTANCE} "quoted"'},
    }


def test_the_configuration_binds_a_private_unix_socket_only(scfg: dict[str, str]) -> None:
    text = supervisor.render_conf(scfg, [])
    assert f"file={scfg['STATE_DIR']}/run/supervisord.sock" in text
    assert "chmod=0700" in text
    assert "inet_http_server" not in text  # no TCP listener


def test_a_program_section_holds_no_environment_and_sets_the_policy(
    scfg: dict[str, str],
) -> None:
    section = supervisor.program_section(sleeper("policy"), scfg)
    assert "environment" not in section and "SLEEPER_NOTE" not in section
    assert "startretries=4" in section and "startsecs=60" in section
    assert "stopasgroup=true" in section and "autorestart=unexpected" in section


def test_a_killed_service_comes_back_and_an_explicit_stop_keeps_it_down(
    running: dict[str, str],
) -> None:
    cfg, svc = running, sleeper("worker")
    supervise.start_daemon(svc, cfg)
    assert (supervisor.spec_path(cfg, "worker").stat().st_mode & 0o777) == 0o600
    first = supervisor.info(cfg, "worker")["pid"]
    # the spawner execs the service with the environment from its spec, quotes and all
    note = b'SLEEPER_NOTE=100% pytest "quoted"'
    wait_until(lambda: note in Path(f"/proc/{first}/environ").read_bytes(), 10, "the exec")
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: supervisor.info(cfg, "worker")["pid"] not in (0, first), 10, "the restart")
    wait_until(lambda: supervisor.restarts(cfg, "worker") == 1, 10, "the restart count")
    again = supervisor.info(cfg, "worker")["pid"]
    supervise.stop_daemon(svc, cfg)
    assert supervise.group_members(again) == []
    time.sleep(2)  # long enough for a restart, were one coming
    assert supervisor.info(cfg, "worker")["statename"] == "STOPPED"
    # `down`'s last step: supervisord itself goes, and nothing of its group stays behind
    sv_pid = supervise.running_pid(cfg, supervisor.NAME)
    supervise.stop_daemon(supervise.supervisord_service(cfg), cfg)
    assert sv_pid is not None and supervise.group_members(sv_pid) == []
    assert not supervisor.reachable(cfg)


def test_a_crash_loop_gives_up_after_five_failed_starts(running: dict[str, str]) -> None:
    cfg = running
    crasher = {**sleeper("crasher", "import sys; sys.exit(3)"), "health": ["false"]}
    with pytest.raises(StackError, match="crasher: gave up after 5 failed starts while starting"):
        supervise.start_daemon(crasher, cfg)
    assert supervisor.info(cfg, "crasher")["statename"] == "FATAL"
    assert supervisor.restarts(cfg, "crasher") == 4
