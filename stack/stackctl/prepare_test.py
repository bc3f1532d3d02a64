"""Kafka's generated configuration and the prepare-step dispatch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import prepare


def properties(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )


def test_kafka_listens_on_the_instance_ports_only(cfg: dict[str, str], tmp_path: Path) -> None:
    props = properties(prepare.kafka_properties(cfg, tmp_path / "data"))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["auto.create.topics.enable"] == "false"


def test_kafka_storage_is_formatted_only_once(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    formats: list[list[str]] = []
    monkeypatch.setattr(prepare, "run", lambda cmd, **_: formats.append(cmd))
    state = Path(cfg["STATE_DIR"]) / "kafka"
    prepare.prepare_kafka(cfg)
    assert len(formats) == 1 and "StorageTool" in formats[0][3]
    assert formats[0][formats[0].index("-t") + 1] == cfg["KAFKA_CLUSTER_ID"]
    (state / "data" / "meta.properties").write_text("formatted\n")
    (state / "server.properties").write_text("stale\n")
    prepare.prepare_kafka(cfg)
    assert len(formats) == 1
    # the configuration is rewritten on every start, formatted or not
    assert "listeners" in properties((state / "server.properties").read_text())
    assert (state / "log4j2.yaml").exists()


def test_an_unknown_prepare_step_names_the_missing_script(
    cfg: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(prepare.StackError, match=r"'nope' \(no stack/prepare_nope.sh\)"):
        prepare.prepare_named("nope", cfg, tmp_path)


def test_a_prepare_script_runs_with_the_instance_environment(
    cfg: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "prepare_demo.sh").write_text('echo "$STACK_INSTANCE" > "$OUT_FILE"\n')
    out = tmp_path / "out.txt"
    prepare.prepare_named("demo", {**cfg, "OUT_FILE": str(out)}, tmp_path)
    assert out.read_text() == "pytest\n"
    (tmp_path / "prepare_broken.sh").write_text("exit 7\n")
    with pytest.raises(prepare.StackError, match=r"Command failed \(7\)"):
        prepare.prepare_named("broken", cfg, tmp_path)


def test_a_data_directory_of_another_major_version_is_refused_before_start(
    cfg: dict[str, str],
) -> None:
    data = Path(cfg["STATE_DIR"]) / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("16\n")
    with pytest.raises(prepare.StackError) as raised:
        prepare.prepare_postgres({**cfg, "POSTGRES_MAJOR": "17", "POSTGRES_PASSWORD": "pw"})
    message = str(raised.value)
    assert f"{data} was created by PostgreSQL 16" in message
    assert "this stack runs PostgreSQL 17 (POSTGRES_MAJOR)" in message
    assert "pg_upgrade" in message
    prepare.check_data_version(data, "16")  # the same major version passes


def test_the_initdb_password_file_is_private_while_it_exists(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, str]] = []

    def fake_initdb(cmd: list[str]) -> None:
        pwfile = Path(next(arg for arg in cmd if arg.startswith("--pwfile=")).split("=", 1)[1])
        seen.append((pwfile.stat().st_mode & 0o777, pwfile.read_text()))
        data = Path(cmd[cmd.index("-D") + 1])
        data.mkdir(parents=True)
        (data / "postgresql.conf").write_text("# initdb\n")
        (data / "PG_VERSION").write_text("17\n")

    monkeypatch.setattr(prepare, "run_as_postgres", fake_initdb)
    old = os.umask(0)  # even a permissive umask must not widen the file's mode
    try:
        prepare.prepare_postgres(
            {
                **cfg,
                "POSTGRES_MAJOR": "17",
                "POSTGRES_USER": "postgres",
                "POSTGRES_PASSWORD": "s3cret",
                "PG_BIN": "/nonexistent",
            }
        )
    finally:
        os.umask(old)
    assert seen == [(0o600, "s3cret\n")]
    assert not (Path(cfg["STATE_DIR"]) / "postgres" / "pwfile").exists()


def test_each_node_of_three_has_its_own_ports_and_all_voters(
    cfg: dict[str, str], tmp_path: Path
) -> None:
    three = {**cfg, "KAFKA_NODES": "3"}
    props = properties(prepare.kafka_properties(three, tmp_path / "data", 2))
    assert props["node.id"] == "2"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19094"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"
    )
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor"):
        assert props[key] == "3", key
    assert props["default.replication.factor"] == "3"
    assert props["transaction.state.log.min.isr"] == props["min.insync.replicas"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    single = properties(prepare.kafka_properties(cfg, tmp_path / "data"))
    assert single["offsets.topic.replication.factor"] == single["min.insync.replicas"] == "1"


def test_each_node_gets_its_own_formatted_directory(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    formats: list[list[str]] = []
    monkeypatch.setattr(prepare, "run", lambda cmd, **_: formats.append(cmd))
    three = {**cfg, "KAFKA_NODES": "3"}
    prepare.prepare_kafka(three, 3)
    node_dir = Path(cfg["STATE_DIR"]) / "kafka-3"
    assert formats[0][-1] == str(node_dir / "server.properties")
    assert properties((node_dir / "server.properties").read_text())["node.id"] == "3"
    assert (node_dir / prepare.QUORUM_FILE).read_text() == "3\n"
    assert not (Path(cfg["STATE_DIR"]) / "kafka").exists()


def test_data_formatted_for_another_node_count_is_refused_not_reformatted(
    cfg: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    formats: list[list[str]] = []
    monkeypatch.setattr(prepare, "run", lambda cmd, **_: formats.append(cmd))
    data = Path(cfg["STATE_DIR"]) / "kafka" / "data"
    data.mkdir(parents=True)
    # formatted before multi-node support: no quorum file, so one node
    (data / "meta.properties").write_text("node.id=1\ncluster.id=x\n")
    with pytest.raises(prepare.StackError) as raised:
        prepare.prepare_kafka({**cfg, "KAFKA_NODES": "3"}, 1)
    message = str(raised.value)
    assert f"{data} was formatted as node 1 of a 1-node cluster" in message
    assert "KAFKA_NODES=3" in message and "set KAFKA_NODES=1 again" in message
    assert "Scaling out" in message
    assert formats == []
    assert (data / "meta.properties").read_text() == "node.id=1\ncluster.id=x\n"
    prepare.prepare_kafka(cfg, 1)  # the count it was formatted for passes
    assert formats == []
