"""What supervisord runs for a supervised service: counts the spawn, then becomes the service.

  python3 -m stack.stackctl.spawn SPEC_FILE

SPEC_FILE (JSON, mode 0600) holds the command and its whole environment, written by the stack
manager on `up`. Each spawn appends a line to STATE_DIR/run/<name>.starts (emptied on an
explicit start), so `make status` shows how often supervisord restarted the service.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    """Records the spawn, then execs the service's command with its environment."""
    spec_file = Path(argv[0])
    spec = json.loads(spec_file.read_text())
    command, env = spec["command"], spec["env"]
    name = spec_file.stem
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(Path(env["STATE_DIR"]) / "run" / f"{name}.starts", "a") as out:
        out.write(f"{stamp}\n")
    print(f"\n=== {stamp} start (supervised): {shlex.join(command)}", flush=True)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
