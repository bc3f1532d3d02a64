"""The command line, driven as a user drives it: `python3 -m stack.stackctl ...`."""

from __future__ import annotations

import subprocess
import sys

from .config import ROOT


def stackctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack.stackctl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_env_prints_the_instance_as_shell_exports() -> None:
    result = stackctl("--instance", "test", "env")
    assert result.returncode == 0, result.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines()
    )
    assert exports["STACK_INSTANCE"] == "test"
    assert exports["STATE_DIR"].endswith("/test")
    assert exports["PROJECT_DIR"] == str(ROOT)
    assert "PATH" in exports


def test_exec_runs_in_the_repository_with_the_instance_environment() -> None:
    result = stackctl(
        "--instance", "test", "exec", "--", "sh", "-c", 'echo "$STACK_INSTANCE $(pwd -P)"'
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"test {ROOT}\n"


def test_exec_without_a_command_is_an_error() -> None:
    result = stackctl("--instance", "test", "exec")
    assert result.returncode == 1
    assert result.stderr == "[stack] ERROR: exec needs a command\n"


def test_an_unknown_instance_is_refused() -> None:
    result = stackctl("--instance", "nowhere", "status")
    assert result.returncode == 2
    assert "invalid choice: 'nowhere'" in result.stderr
