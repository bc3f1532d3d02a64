"""Installing every tool the stack needs: idempotent (a marker per tool), cached, pinned."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .config import ROOT, STACK, lock_digest, process_env
from .proc import StackError, log, run

_apt_updated = False


def apt_install(*packages: str) -> None:
    """apt-get install, after one apt-get update per run; needs root."""
    global _apt_updated
    if os.geteuid() != 0:
        raise StackError(f"Missing {' '.join(packages)}: install them (apt-get) or run as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        log("apt-get update")
        run(["apt-get", "update", "-q"], env=env)
        _apt_updated = True
    log(f"apt-get install {' '.join(packages)}")
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages], env=env)


def install_postgres(cfg: dict[str, str]) -> None:
    """PostgreSQL from the distribution, with Debian's own `main` cluster kept off our port."""
    major = cfg["POSTGRES_MAJOR"]
    if not (Path(cfg["PG_BIN"]) / "postgres").exists():
        apt_install(f"postgresql-{major}", f"postgresql-client-{major}")
    # Debian's package creates and starts a `main` cluster on 5432: keep it from taking our port.
    start_conf = Path(f"/etc/postgresql/{major}/main/start.conf")
    if start_conf.exists() and os.geteuid() == 0:
        if start_conf.read_text().strip() != "manual":
            start_conf.write_text("manual\n")
        subprocess.run(["pg_ctlcluster", major, "main", "stop"], capture_output=True, check=False)


def install_java() -> None:
    """A Java runtime for Kafka and Maven to resolve its jars."""
    if shutil.which("java") is None:
        apt_install("openjdk-17-jre-headless")
    if shutil.which("mvn") is None:
        apt_install("maven")


def uv_bin(cfg: dict[str, str]) -> str:
    """The pinned uv, installed into its own virtualenv on first use."""
    home = Path(cfg["STACK_CACHE_DIR"]) / f"uv-{cfg['UV_VERSION']}"
    uv = home / "bin" / "uv"
    if not uv.exists():
        log(f"installing uv {cfg['UV_VERSION']}")
        run([sys.executable, "-m", "venv", str(home)])
        run([str(home / "bin" / "pip"), "install", "-q", f"uv=={cfg['UV_VERSION']}"])
    return str(uv)


def install_deno(cfg: dict[str, str]) -> None:
    """The pinned Deno, from its PyPI wheel."""
    deno = Path(cfg["DENO_BIN"])
    if deno.exists():
        return
    log(f"installing Deno {cfg['DENO_VERSION']} (PyPI)")
    uv = uv_bin(cfg)
    run([uv, "venv", "-q", "--python", sys.executable, cfg["DENO_HOME"]])
    run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(Path(cfg["DENO_HOME"]) / "bin" / "python"),
            f"deno=={cfg['DENO_VERSION']}",
        ]
    )


def install_venv(cfg: dict[str, str], name: str) -> None:
    """A virtualenv of LOCKED_VENVS, synced from its lock; named after the lock's digest."""
    venv = Path(cfg[f"{name.upper()}_VENV"])
    marker = venv / ".installed"
    if marker.exists():
        return
    lock = STACK / "python" / f"{name}.lock.txt"
    log(f"installing the {name} virtualenv from {lock.relative_to(ROOT)}")
    uv = uv_bin(cfg)
    if venv.exists():
        shutil.rmtree(venv)
    run([uv, "venv", "-q", "--python", sys.executable, str(venv)])
    run([uv, "pip", "sync", "-q", "--python", str(venv / "bin" / "python"), str(lock)])
    marker.write_text(lock_digest(name) + "\n")


def install_kafka(cfg: dict[str, str]) -> None:
    """Apache Kafka's jars, resolved from Maven Central by stack/kafka/pom.xml."""
    libs = Path(cfg["KAFKA_LIBS"])
    marker = libs.parent / ".installed"
    if marker.exists():
        return
    log(f"resolving Apache Kafka {cfg['KAFKA_VERSION']} from Maven Central")
    if libs.exists():
        shutil.rmtree(libs)
    run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(STACK / "kafka" / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            f"-Dkafka.version={cfg['KAFKA_VERSION']}",
            f"-Dscala.binary.version={cfg['KAFKA_SCALA_VERSION']}",
        ]
    )
    marker.write_text(cfg["KAFKA_VERSION"] + "\n")


def install_browser() -> None:
    """Debian's chromium (/usr/bin/chromium) for the headless dashboard test."""
    if shutil.which("chromium") is None:
        apt_install("chromium")


def install_deno_deps(cfg: dict[str, str]) -> None:
    """Fetches every npm package in deno.json into DENO_DIR (checked against deno.lock)."""
    run([cfg["DENO_BIN"], "install", "--quiet"], env=process_env(cfg), cwd=ROOT)


def install(cfg: dict[str, str], parts: set[str] | None = None) -> None:
    """Installs the given parts (every part when None), in dependency order."""
    Path(cfg["STACK_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    steps = {
        "postgres": lambda: install_postgres(cfg),
        "java": install_java,
        "deno": lambda: (install_deno(cfg), install_deno_deps(cfg)),
        "kafka": lambda: install_kafka(cfg),
        "dbt": lambda: install_venv(cfg, "dbt"),
        "airflow": lambda: install_venv(cfg, "airflow"),
        "supervisor": lambda: install_venv(cfg, "supervisor"),
        "superset": lambda: install_venv(cfg, "superset"),
        # Debian's chromium: the dashboard's browser test drives it (`make test`), `make up` not.
        "browser": install_browser,
    }
    for name, step in steps.items():
        if parts is None or name in parts:
            step()


def needed_installs(services: list[dict]) -> set[str]:
    """The install parts a set of services needs (Deno and dbt always)."""
    parts = {"deno"}
    names = {svc["name"] for svc in services}
    if "postgres" in names:
        parts.add("postgres")
    if "kafka" in names:
        parts |= {"java", "kafka"}
    if any(n.startswith("airflow") for n in names):
        parts.add("airflow")
    if any(n.startswith("superset") for n in names):
        parts.add("superset")
    if any(svc.get("supervised") for svc in services):
        parts.add("supervisor")
    parts.add("dbt")
    return parts


# The virtualenvs synced from a lock in stack/python/ (install part = name = <NAME>_VENV setting).
LOCKED_VENVS = ("dbt", "airflow", "supervisor", "superset")


def relock(cfg: dict[str, str]) -> None:
    """Re-resolves stack/python/*.lock.txt from the .in files for the pinned Python."""
    uv = uv_bin(cfg)
    for name in LOCKED_VENVS:
        log(f"relocking stack/python/{name}.in")
        # Relative paths from stack/python: uv writes them into the lock's header, and the
        # lock's digest names the virtualenv, so the header must not depend on the checkout.
        run(
            [
                uv,
                "pip",
                "compile",
                "-q",
                "--python-version",
                cfg["PYTHON_VERSION"],
                f"{name}.in",
                "-o",
                f"{name}.lock.txt",
            ],
            cwd=STACK / "python",
            quiet=False,
        )
