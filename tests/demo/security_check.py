"""Security checks on a running instance (the demo suite runs them after its first demo).

    python3 -m stack.stackctl --instance demo exec -- python3 tests/demo/security_check.py WHAT

WHAT is one of:
  listeners   every listening TCP socket of the instance's processes is on loopback
  environ     no process of the instance holds the PostgreSQL superuser's password
  sessions    PostgreSQL has no session of the superuser, and Airflow's sessions use its role
Exit 0 when the check holds; otherwise 1 with the offending sockets, processes or sessions.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

LOOPBACK = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}


def instance_pids() -> dict[int, str]:
    """pid -> service of every process carrying the instance's marker (children inherit it)."""
    marker = f"WEBSHOP_SERVICE={os.environ['STACK_INSTANCE']}/".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in env:
            if item.startswith(marker):
                found[int(entry.name)] = item[len(marker) :].decode()
    return found


def environ(pid: int) -> dict[str, str]:
    """The environment a process started with."""
    items = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode(errors="replace").partition("=") for item in items if b"=" in item)
    return {key: value for key, _, value in pairs}


def decode_address(hex_addr: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """An address of /proc/net/tcp{,6}: little-endian 32-bit words, then the port in hex."""
    host, port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address, int(port, 16)


def listening_inodes() -> dict[str, str]:
    """inode -> address:port of every listening TCP socket of the host."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address, port = decode_address(fields[1])
            found[fields[9]] = (address, port)
    return found


def check_listeners() -> list[str]:
    sockets = listening_inodes()
    problems, seen = [], 0
    for pid, service in instance_pids().items():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            inode = target[len("socket:[") : -1] if target.startswith("socket:[") else None
            if inode in sockets:
                address, port = sockets[inode]
                seen += 1
                if address not in LOOPBACK:
                    problems.append(f"{service} (pid {pid}) listens on {address} port {port}")
    if seen == 0:
        problems.append("no listening socket found for the instance: is it running?")
    return problems


def check_environ() -> list[str]:
    password = os.environ["POSTGRES_PASSWORD"]
    problems = []
    pids = instance_pids()
    if not any(service.startswith("airflow-scheduler") for service in pids.values()):
        problems.append(
            "the Airflow scheduler (whose environment its tasks inherit) is not running"
        )
    for pid, service in pids.items():
        try:
            env = environ(pid)
        except OSError:
            continue
        leaked = [k for k, v in env.items() if v == password or f":{password}@" in v]
        if leaked:
            problems.append(f"{service} (pid {pid}) holds the superuser password in {leaked}")
    return problems


def socket_owner(port: int) -> str:
    """The local process (pid and command line) whose TCP socket has this local port."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if decode_address(fields[1])[1] == port:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                return f"pid {entry.name}: {cmdline[:160]}"
        except OSError:
            continue
    return "no local process"


def check_sessions() -> list[str]:
    query = (
        "select usename, coalesce(client_port, 0), concat_ws(' ', datname, state,"
        " application_name, regexp_replace(left(query, 80), '\\s+', ' ', 'g'))"
        " from pg_stat_activity"
        # client sessions only: the server's own workers (the logical replication launcher
        # shows as the bootstrap superuser) are no service of ours
        " where backend_type = 'client backend' and pid <> pg_backend_pid()"
    )
    result = subprocess.run(
        [
            f"{os.environ['PG_BIN']}/psql",
            "-X",
            "-At",
            "-F",
            "\t",
            "-h",
            "127.0.0.1",
            "-p",
            os.environ["PGPORT"],
            "-U",
            os.environ["POSTGRES_USER"],
            "-d",
            "postgres",
            "-c",
            query,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # one line per session (the query's newlines are squeezed above): user, port, description
    sessions = [(line.split("\t", 2) + ["", ""])[:3] for line in result.stdout.splitlines()]
    problems = [
        f"session as the superuser: {what} (client {socket_owner(int(port or 0))})"
        for user, port, what in sessions
        if user == os.environ["POSTGRES_USER"]
    ]
    airflow_role = os.environ["AIRFLOW_DB_USER"]
    if not any(user == airflow_role for user, _, _ in sessions):
        problems.append(f"no session as {airflow_role}: {sessions}")
    return problems


CHECKS = {"listeners": check_listeners, "environ": check_environ, "sessions": check_sessions}

if __name__ == "__main__":
    problems = CHECKS[sys.argv[1]]()
    for problem in problems:
        print(f"  {problem}")
    sys.exit(1 if problems else 0)
