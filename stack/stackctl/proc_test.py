"""A failed command names itself and its output; log tails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .proc import StackError, log_tail, run


def test_run_passes_quietly_on_success(capsys: pytest.CaptureFixture[str]) -> None:
    run([sys.executable, "-c", "print('hidden')"])
    assert capsys.readouterr().out == ""


def test_run_raises_with_exit_code_command_and_output() -> None:
    with pytest.raises(StackError) as raised:
        run([sys.executable, "-c", "import sys; print('why it broke'); sys.exit(4)"])
    message = str(raised.value)
    assert message.startswith("Command failed (4): ")
    assert "sys.exit(4)" in message and "why it broke" in message


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    logfile = tmp_path / "svc.log"
    assert log_tail(logfile) == "(no log)"
    logfile.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(logfile, 2) == "line 98\nline 99"
