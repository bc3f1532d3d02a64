"""Preparing services on their first start (idempotent): the PostgreSQL cluster, Kafka's KRaft
storage and configuration, Superset's metadata database (superset_db.py), and the
`stack/prepare_<name>.sh` steps of later parts."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from .config import ROOT, STACK, kafka_node_ports, kafka_nodes, process_env, replica_name
from .proc import StackError, log, run, write_private
from .superset_db import prepare_superset


def prepare_postgres(cfg: dict[str, str], _replica: int = 1) -> None:
    """The cluster, owned by `postgres`: initdb once, our tuning included on every start."""
    state = Path(cfg["STATE_DIR"]) / "postgres"
    data = state / "data"
    (state / "run").mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(state, "postgres", "postgres")
        shutil.chown(state / "run", "postgres", "postgres")
        os.chmod(state, 0o700)
    check_data_version(data, cfg["POSTGRES_MAJOR"])
    if not (data / "PG_VERSION").exists():
        log("initialising the PostgreSQL cluster")
        pwfile = state / "pwfile"
        write_private(pwfile, cfg["POSTGRES_PASSWORD"] + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            run_as_postgres(
                [
                    f"{cfg['PG_BIN']}/initdb",
                    "-D",
                    str(data),
                    "-U",
                    cfg["POSTGRES_USER"],
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = data / "postgresql.conf"
        conf.write_text(conf.read_text() + "\ninclude_if_exists = 'webshop_tuning.conf'\n")
    # Tuning is copied on every start so a change in stack/postgres/tuning.conf applies.
    tuning = data / "webshop_tuning.conf"
    tuning.write_text((STACK / "postgres" / "tuning.conf").read_text())
    if os.geteuid() == 0:
        shutil.chown(tuning, "postgres", "postgres")


def check_data_version(data: Path, major: str) -> None:
    """Fails before start when the data directory belongs to another PostgreSQL major version."""
    version_file = data / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    if found != major:
        raise StackError(
            f"PostgreSQL data directory {data} was created by PostgreSQL {found}, "
            f"but this stack runs PostgreSQL {major} (POSTGRES_MAJOR). Upgrade it with "
            f"pg_upgrade or a dump and restore, or move the directory away to start empty"
        )


def run_as_postgres(cmd: list[str]) -> None:
    """Runs a server tool as the `postgres` user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        result = subprocess.run(
            cmd,
            user="postgres",
            group="postgres",
            extra_groups=[],
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
    else:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"{shlex.join(cmd)} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def kafka_properties(cfg: dict[str, str], data: Path, node: int = 1) -> str:
    """Node `node`'s KRaft server.properties (combined broker and controller) on its own loopback
    ports; the replication of Kafka's internal topics follows the node count."""
    nodes = kafka_nodes(cfg)
    port, cport = kafka_node_ports(cfg, node)
    voters = ",".join(f"{i}@127.0.0.1:{kafka_node_ports(cfg, i)[1]}" for i in range(1, nodes + 1))
    factor, min_isr = min(3, nodes), min(2, nodes)
    return f"""# Written by stack/stackctl/prepare.py on every start; edit that file, not this one.
process.roles=broker,controller
node.id={node}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=1
# {nodes} node(s): internal topics on min(3, nodes) replicas, writes need min(2, nodes) in sync.
default.replication.factor={factor}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={factor}
transaction.state.log.replication.factor={factor}
transaction.state.log.min.isr={min_isr}
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# The broker's per-message cap; the consumer's own cap sits below it (see docs/events.md).
message.max.bytes=1048588
log.retention.check.interval.ms=60000
"""


# Written beside a node's data directory when it is formatted: the node count of its quorum.
# A data directory without it was formatted before multi-node support, for one node.
QUORUM_FILE = "quorum-nodes"


def check_kafka_quorum(state: Path, data: Path, node: int, nodes: int) -> None:
    """Fails when a node's formatted data belongs to another quorum size or node id: a KRaft
    quorum cannot grow by configuration, and reformatting would drop the stored events."""
    meta = data / "meta.properties"
    if not meta.exists():
        return
    marker = state / QUORUM_FILE
    found = int(marker.read_text().strip()) if marker.exists() else 1
    stored_id = read_properties(meta).get("node.id", str(node))
    if found == nodes and stored_id == str(node):
        return
    raise StackError(
        f"Kafka node {state.name}: its data directory {data} was formatted as node {stored_id} "
        f"of a {found}-node cluster, but KAFKA_NODES={nodes} makes it node {node} of {nodes}. "
        f"Nothing is reformatted automatically: set KAFKA_NODES={found} again, or move to "
        f'{nodes} node(s) as docs/operations.md ("Scaling out") describes'
    )


def read_properties(path: Path) -> dict[str, str]:
    """key=value lines of a Java properties file (comments skipped)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


def prepare_kafka(cfg: dict[str, str], node: int = 1) -> None:
    """Writes node `node`'s configuration on every start; formats its storage the first time."""
    nodes = kafka_nodes(cfg)
    state = Path(cfg["STATE_DIR"]) / replica_name("kafka", node)
    data = state / "data"
    data.mkdir(parents=True, exist_ok=True)
    check_kafka_quorum(state, data, node, nodes)
    (state / "server.properties").write_text(kafka_properties(cfg, data, node))
    (state / "log4j2.yaml").write_text("""Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
      - name: kafka.coordinator
        level: WARN
""")
    if not (data / "meta.properties").exists():
        log(f"{state.name}: formatting the KRaft metadata directory (node {node} of {nodes})")
        run(
            [
                "java",
                "-cp",
                f"{cfg['KAFKA_LIBS']}/*",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cfg["KAFKA_CLUSTER_ID"],
                "-c",
                str(state / "server.properties"),
            ]
        )
        (state / QUORUM_FILE).write_text(f"{nodes}\n")


PREPARE = {"postgres": prepare_postgres, "kafka": prepare_kafka, "superset": prepare_superset}


def prepare_named(name: str, cfg: dict[str, str], stack: Path = STACK, replica: int = 1) -> None:
    """Runs a service's prepare step: a built-in one (for copy `replica`), or
    stack/prepare_<name>.sh."""
    if name in PREPARE:
        PREPARE[name](cfg, replica)
        return
    # Later parts of the stack register their own prepare scripts: stack/prepare_<name>.sh
    script = stack / f"prepare_{name}.sh"
    if not script.exists():
        raise StackError(f"Unknown prepare step {name!r} (no stack/prepare_{name}.sh)")
    run(["bash", str(script)], env=process_env(cfg), cwd=ROOT, quiet=True)
