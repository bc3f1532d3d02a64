"""The native stack's process supervisor: one supervisord per instance (decision 0012), bound to
a unix socket in the state directory, restarts the services marked `supervised` in the manifest.

Policy: a process that dies within START_WINDOW_S of its start is a failed start; supervisord
retries it after 1, 2, 3, 4 s (linear back-off) and gives up (FATAL) after the 5th failure in a
row, so 5 crashes within 60 s always end in "gave up". A process that ran longer is restarted at
once. An explicit stop (`stackctl stop`, `make down`) is never undone by supervisord.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import time
import xmlrpc.client
from pathlib import Path

from .config import ROOT, expand
from .proc import StackError, log, write_private

START_WINDOW_S = 60
START_RETRIES = 4  # retries after the first failed start: 5 failures in a row give up
STOP_TIMEOUT_S = 45
NAME = "supervisord"


def socket_path(cfg: dict[str, str]) -> Path:
    """The instance's supervisord control socket (a unix socket: no TCP listener)."""
    return Path(cfg["STATE_DIR"]) / "run" / "supervisord.sock"


def conf_path(cfg: dict[str, str]) -> Path:
    """The generated supervisord configuration (mode 0600: it holds the services' environment)."""
    return Path(cfg["STATE_DIR"]) / "supervisor" / "supervisord.conf"


def spec_path(cfg: dict[str, str], name: str) -> Path:
    """The command and environment a supervised service runs with (mode 0600: secrets)."""
    return Path(cfg["STATE_DIR"]) / "supervisor" / f"{name}.json"


def starts_path(cfg: dict[str, str], name: str) -> Path:
    """One line per spawn of a supervised service since its last explicit start."""
    return Path(cfg["STATE_DIR"]) / "run" / f"{name}.starts"


def quote(value: str) -> str:
    """A path or word for supervisord's command line: double-quoted, `%` escaped."""
    return '"' + value.replace("%", "%%") + '"'


def write_spec(svc: dict, cfg: dict[str, str], env: dict[str, str]) -> None:
    """Writes what the spawner execs: read on every (re)start, so no secret sits in the conf."""
    command = [expand(arg, cfg) for arg in svc["command"]]
    path = spec_path(cfg, svc["name"])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps({"command": command, "env": env}))


def program_section(svc: dict, cfg: dict[str, str]) -> str:
    """The [program:x] section of one supervised service: the restart policy and its log."""
    name = svc["name"]
    state = Path(cfg["STATE_DIR"])
    spawn = [sys.executable, "-m", "stack.stackctl.spawn", str(spec_path(cfg, name))]
    return "\n".join(
        [
            f"[program:{name}]",
            "command=" + " ".join(quote(arg) for arg in spawn),
            f"directory={ROOT}",
            "autostart=false",
            "autorestart=unexpected",
            "exitcodes=0",
            f"startsecs={START_WINDOW_S}",
            f"startretries={START_RETRIES}",
            f"stopsignal={svc.get('stop_signal', 'SIGTERM').removeprefix('SIG')}",
            f"stopwaitsecs={STOP_TIMEOUT_S}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={state / 'logs' / f'{name}.log'}",
            "stdout_logfile_maxbytes=0",
            "",
        ]
    )


def render_conf(cfg: dict[str, str], programs: list[str]) -> str:
    """The whole supervisord configuration: control socket, daemon settings, programs."""
    state = Path(cfg["STATE_DIR"])
    head = f"""; Written by stack/stackctl/supervisor.py; edit stack/services.json, not this file.
[unix_http_server]
file={socket_path(cfg)}
chmod=0700

[supervisord]
nodaemon=true
logfile={state / "logs" / "supervisord.log"}
logfile_maxbytes=0
pidfile={state / "run" / "supervisord.real.pid"}
directory={ROOT}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

"""
    return head + "\n".join(programs)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self._path, self._timeout = path, timeout

    def make_connection(self, host: object) -> http.client.HTTPConnection:
        return _UnixConnection(self._path, self._timeout)


def rpc(cfg: dict[str, str], timeout: float = 10) -> xmlrpc.client.ServerProxy:
    """supervisord's XML-RPC interface over the instance's unix socket."""
    transport = _UnixTransport(str(socket_path(cfg)), timeout)
    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=transport)


def reachable(cfg: dict[str, str]) -> bool:
    """True when the instance's supervisord answers on its socket."""
    if not socket_path(cfg).exists():
        return False
    try:
        return rpc(cfg, 3).supervisor.getState()["statename"] == "RUNNING"
    except (OSError, xmlrpc.client.Error):
        return False


def info(cfg: dict[str, str], name: str) -> dict | None:
    """supervisord's view of a program (statename, pid, description), or None when unknown."""
    if not reachable(cfg):
        return None
    try:
        return rpc(cfg).supervisor.getProcessInfo(name)
    except xmlrpc.client.Fault:
        return None


def restarts(cfg: dict[str, str], name: str) -> int:
    """How often supervisord restarted the service since its last explicit start."""
    path = starts_path(cfg, name)
    if not path.exists():
        return 0
    return max(0, len(path.read_text().splitlines()) - 1)


def load(cfg: dict[str, str], name: str, section: str) -> None:
    """Writes the program's section and (re)loads it into supervisord when it changed."""
    conf = conf_path(cfg)
    sections = dict(_sections(conf.read_text())) if conf.exists() else {}
    if sections.get(name) == section:
        return
    sections[name] = section
    write_private(conf, render_conf(cfg, [sections[key] for key in sorted(sections)]))
    server = rpc(cfg).supervisor
    server.reloadConfig()
    try:
        server.removeProcessGroup(name)
    except xmlrpc.client.Fault:
        pass  # not loaded yet
    server.addProcessGroup(name)


def _sections(text: str) -> list[tuple[str, str]]:
    """The [program:x] sections of a written configuration, by name."""
    found = []
    for chunk in text.split("[program:")[1:]:
        name = chunk.split("]", 1)[0]
        found.append((name, "[program:" + chunk.rstrip("\n") + "\n"))
    return found


def start(cfg: dict[str, str], name: str) -> None:
    """Starts a loaded program without waiting for supervisord's start window."""
    starts_path(cfg, name).write_text("")
    try:
        rpc(cfg).supervisor.startProcess(name, False)
    except xmlrpc.client.Fault as fault:
        if "ALREADY_STARTED" not in fault.faultString:
            raise StackError(
                f"{name}: supervisord refused to start it: {fault.faultString}"
            ) from None


def stop(cfg: dict[str, str], name: str) -> int | None:
    """Stops a program (supervisord then leaves it down); returns its last pid, if any."""
    current = info(cfg, name)
    if current is None:
        return None
    pid = current["pid"] or None
    if current["statename"] in ("STARTING", "RUNNING", "BACKOFF"):
        log(f"{name}: stopping (supervised, pid {pid or '-'})")
        try:
            rpc(cfg, STOP_TIMEOUT_S + 15).supervisor.stopProcess(name, True)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise StackError(
                    f"{name}: supervisord could not stop it: {fault.faultString}"
                ) from None
    return pid


def wait_reachable(cfg: dict[str, str], timeout_s: float = 30) -> None:
    """Waits until a just-started supervisord answers on its socket."""
    deadline = time.monotonic() + timeout_s
    while not reachable(cfg):
        if time.monotonic() > deadline:
            raise StackError(f"{NAME}: no answer on {socket_path(cfg)} after {timeout_s}s")
        time.sleep(0.2)
