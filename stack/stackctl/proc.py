"""Running a command and reporting: the error users see, the `[stack]` log line, log tails."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path


class StackError(Exception):
    """A failure the user must see: message plus, where useful, a log tail."""


def log(message: str) -> None:
    """Prints one `[stack]` progress line, flushed so it interleaves with child output."""
    print(f"[stack] {message}", flush=True)


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    quiet: bool = True,
) -> None:
    """Runs a command; a non-zero exit raises StackError with the command and its output tail."""
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        tail = ((result.stdout or "") + (result.stderr or ""))[-4000:]
        raise StackError(f"Command failed ({result.returncode}): {shlex.join(cmd)}\n{tail}")


def log_tail(logfile: Path, lines: int = 40) -> str:
    """The last lines of a service log, or `(no log)` when there is none yet."""
    if not logfile.exists():
        return "(no log)"
    return "\n".join(logfile.read_text(errors="replace").splitlines()[-lines:])


def write_private(path: Path, text: str) -> None:
    """Replaces `path` with `text` atomically, in a file created 0600: never world-readable, and
    a crash mid-write leaves the old file (a secret already in use is never half-written)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)
