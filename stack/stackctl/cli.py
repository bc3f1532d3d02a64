"""The stack manager's commands.

Instances keep their state apart: `dev` (make up) uses the ports from .env; `test` (make test)
adds stack/instances/test.env (own ports, own data directory, no continuous workers), so a test
run never touches a user's running stack.

  python3 -m stack.stackctl [--instance dev|test] install | up [SERVICE...] [--skip NAME,...]
  python3 -m stack.stackctl [--instance dev|test] down | status
  python3 -m stack.stackctl [--instance dev|test] stop SERVICE... (stays down, even supervised)
  python3 -m stack.stackctl [--instance dev|test] logs [SERVICE] | env | exec -- COMMAND...

Only the Python standard library is used: this package is what installs everything else.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from . import supervisor
from .config import (
    ROOT,
    STACK,
    load_config,
    load_manifest,
    load_manifest_all,
    process_env,
    service_port,
)
from .install import install, relock
from .proc import StackError, log_tail
from .secrets import prepare_secrets
from .supervise import down, healthy, running_pid, stop_daemon, up

# supervisord's states as `make status` shows them; RUNNING and STARTING get the health check.
SUPERVISED_STATES = {"BACKOFF": "restarting", "FATAL": "GAVE UP", "STOPPING": "stopping"}


def service_state(svc: dict, cfg: dict[str, str]) -> tuple[str, int | None, str]:
    """A daemon's state word, pid and extra column (restarts of a supervised service)."""
    name = svc["name"]
    if svc.get("supervised"):
        current = supervisor.info(cfg, name)
        extra = f"restarts={supervisor.restarts(cfg, name)}"
        if current is None or current["statename"] in ("STOPPED", "EXITED"):
            return "stopped", None, extra
        pid = current["pid"] or None
        if current["statename"] in SUPERVISED_STATES:
            return SUPERVISED_STATES[current["statename"]], pid, extra
    else:
        pid, extra = running_pid(cfg, name), ""
        if pid is None:
            return "stopped", None, extra
    return ("healthy" if healthy(svc, cfg) else "UNHEALTHY"), pid, extra


def cmd_status(cfg: dict[str, str]) -> int:
    """Prints each daemon's state, then the pipeline section; 1 when one is not healthy."""
    bad = 0
    print(f"instance {cfg['STACK_INSTANCE']}  (state: {cfg['STATE_DIR']})")
    in_profile = {svc["name"] for svc in load_manifest(cfg)}
    for svc in load_manifest_all(cfg):
        if svc["kind"] != "daemon":
            continue
        state, pid, extra = service_state(svc, cfg)
        # A supervised service outside the instance's profile shows while a test runs it.
        if svc["name"] not in in_profile and not (svc.get("supervised") and state != "stopped"):
            continue
        port = service_port(svc, cfg)
        bad += state != "healthy"
        print(f"  {svc['name']:<20} {state:<10} pid={pid or '-':<8} port={port or '-':<6} {extra}")
    status_script = STACK / "status_extra.sh"
    if status_script.exists():
        sys.stdout.flush()  # the service table first, then the pipeline section
        subprocess.run(["bash", str(status_script)], env=process_env(cfg), cwd=ROOT, check=False)
    return 1 if bad else 0


def cmd_stop(cfg: dict[str, str], names: list[str]) -> None:
    """Stops the named daemons; supervisord does not restart a service stopped this way."""
    daemons = {svc["name"]: svc for svc in load_manifest_all(cfg) if svc["kind"] == "daemon"}
    unknown = sorted(set(names) - set(daemons))
    if unknown:
        raise StackError(f"Unknown daemon(s) to stop: {', '.join(unknown)}")
    for name in names:
        stop_daemon(daemons[name], cfg)


def cmd_logs(cfg: dict[str, str], names: list[str], lines: int) -> None:
    """Prints the tail of each service log (every log when no name is given)."""
    logs = Path(cfg["STATE_DIR"]) / "logs"
    targets = [logs / f"{n}.log" for n in names] if names else sorted(logs.glob("*.log"))
    for logfile in targets:
        print(f"==> {logfile} <==")
        print(log_tail(logfile, lines))


def env_exports(cfg: dict[str, str]) -> str:
    """The instance environment as `export KEY='value'` lines (settings plus PATH), sorted."""
    env = process_env(cfg)
    return "\n".join(f"export {key}={shlex.quote(env[key])}" for key in sorted(set(cfg) | {"PATH"}))


def main(argv: list[str]) -> int:
    """Parses the command line and runs one command; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="stackctl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--instance",
        default=os.environ.get("STACK_INSTANCE", "dev"),
        choices=["dev", *sorted(p.stem for p in (STACK / "instances").glob("*.env"))],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_install = sub.add_parser("install", help="install every tool the stack needs")
    p_install.add_argument("parts", nargs="*")
    p_up = sub.add_parser("up", help="install what is missing and start the services")
    p_up.add_argument("services", nargs="*")
    p_up.add_argument(
        "--skip", default="", metavar="NAME[,NAME]", help="start everything else (comma list)"
    )
    sub.add_parser("down", help="stop the services this instance started; data is kept")
    p_stop = sub.add_parser("stop", help="stop services; a supervised one stays down")
    p_stop.add_argument("services", nargs="+")
    sub.add_parser("status", help="health of every service")
    p_logs = sub.add_parser("logs", help="tail the service logs")
    p_logs.add_argument("services", nargs="*")
    p_logs.add_argument("-n", type=int, default=40)
    sub.add_parser("relock", help="re-resolve stack/python/*.lock.txt from the .in files")
    sub.add_parser("env", help="print the instance environment as shell exports")
    p_exec = sub.add_parser("exec", help="run a command with the instance environment")
    p_exec.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.instance)
        if args.command == "install":
            install(cfg, set(args.parts) or None)
        elif args.command == "up":
            prepare_secrets(cfg)
            up(cfg, args.services, [name for name in args.skip.split(",") if name])
        elif args.command == "down":
            down(cfg)
        elif args.command == "stop":
            cmd_stop(cfg, args.services)
        elif args.command == "status":
            return cmd_status(cfg)
        elif args.command == "logs":
            cmd_logs(cfg, args.services, args.n)
        elif args.command == "relock":
            relock(cfg)
        elif args.command == "env":
            print(env_exports(cfg))
        elif args.command == "exec":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not cmd:
                raise StackError("exec needs a command")
            os.chdir(ROOT)
            os.execvpe(cmd[0], cmd, process_env(cfg))
    except StackError as error:
        print(f"[stack] ERROR: {error}", file=sys.stderr, flush=True)
        return 1
    return 0
