"""Replicated services: KAFKA_NODES and CONSUMER_REPLICAS, their names, ports and variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .config import (
    expand,
    kafka_brokers,
    kafka_nodes,
    load_manifest,
    load_manifest_all,
    replica_setting,
    service_port,
)
from .proc import StackError
from .supervise import replica_groups

NODE = {
    "name": "kafka",
    "kind": "daemon",
    "replicas": "KAFKA_NODES",
    "port": "KAFKA_PORT",
    "port_stride": 2,
    "command": ["java", "${STATE_DIR}/${REPLICA_NAME}/server.properties"],
    "health": ["check", "127.0.0.1:${REPLICA_PORT}"],
    "env": {"NODE": "${REPLICA}"},
}
WORKER = {"name": "consumer", "kind": "daemon", "replicas": "CONSUMER_REPLICAS", "env": {}}


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"services": [NODE, {"name": "kafka-topics"}, WORKER]}))
    return path


def settings(tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        "STACK_PROFILE": "test",
        "STATE_DIR": str(tmp_path / "state"),
        "KAFKA_PORT": "49092",
        "KAFKA_CONTROLLER_PORT": "49093",
        **values,
    }


def test_node_one_keeps_its_name_and_the_others_are_numbered(
    manifest: Path, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, KAFKA_NODES="3", CONSUMER_REPLICAS="2")
    names = [svc["name"] for svc in load_manifest(cfg, manifest)]
    assert names == ["kafka", "kafka-2", "kafka-3", "kafka-topics", "consumer", "consumer-2"]
    single = settings(tmp_path)
    assert [svc["name"] for svc in load_manifest(single, manifest)] == [
        "kafka",
        "kafka-topics",
        "consumer",
    ]


def test_each_copy_gets_its_own_variables_and_port(manifest: Path, tmp_path: Path) -> None:
    cfg = settings(tmp_path, KAFKA_NODES="3")
    third = load_manifest(cfg, manifest)[2]
    assert [expand(arg, cfg) for arg in third["command"]] == [
        "java",
        f"{tmp_path}/state/kafka-3/server.properties",
    ]
    assert third["health"] == ["check", "127.0.0.1:49096"]
    assert third["env"] == {"NODE": "3"}
    assert service_port(third, cfg) == "49096"
    assert service_port(load_manifest(cfg, manifest)[0], cfg) == "49092"
    # ${KEY}s other than the copy's own are left for expand()
    assert third["command"][1].startswith("${STATE_DIR}/")


def test_brokers_list_every_node_on_its_port(tmp_path: Path) -> None:
    assert kafka_brokers(settings(tmp_path)) == "127.0.0.1:49092"
    assert kafka_brokers(settings(tmp_path, KAFKA_NODES="3")) == (
        "127.0.0.1:49092,127.0.0.1:49094,127.0.0.1:49096"
    )
    assert kafka_brokers(settings(tmp_path, KAFKA_NODES="3"), controller=True) == (
        "127.0.0.1:49093,127.0.0.1:49095,127.0.0.1:49097"
    )


@pytest.mark.parametrize("value", ["2", "4", "0", "three", "-1"])
def test_a_node_count_without_a_working_quorum_is_named(tmp_path: Path, value: str) -> None:
    with pytest.raises(StackError, match=rf"Reading KAFKA_NODES: '?{value}'?"):
        kafka_nodes(settings(tmp_path, KAFKA_NODES=value))


def test_replica_counts_must_be_whole_numbers(tmp_path: Path) -> None:
    assert replica_setting(settings(tmp_path), "CONSUMER_REPLICAS") == 1
    assert replica_setting(settings(tmp_path, CONSUMER_REPLICAS="4"), "CONSUMER_REPLICAS") == 4
    with pytest.raises(StackError, match="Reading CONSUMER_REPLICAS: '1.5'"):
        replica_setting(settings(tmp_path, CONSUMER_REPLICAS="1.5"), "CONSUMER_REPLICAS")


def test_down_still_sees_copies_started_under_a_larger_setting(
    manifest: Path, tmp_path: Path
) -> None:
    cfg = settings(tmp_path)
    (tmp_path / "state" / "run").mkdir(parents=True)
    (tmp_path / "state" / "supervisor").mkdir(parents=True)
    (tmp_path / "state" / "run" / "kafka-3.pid").write_text("1\n")
    (tmp_path / "state" / "supervisor" / "consumer-2.json").write_text("{}")
    names = [svc["name"] for svc in load_manifest_all(cfg, manifest)]
    assert names == ["kafka", "kafka-2", "kafka-3", "kafka-topics", "consumer", "consumer-2"]
    # what the instance runs follows the setting only
    assert [svc["name"] for svc in load_manifest(cfg, manifest)] == [
        "kafka",
        "kafka-topics",
        "consumer",
    ]


def test_copies_of_one_service_are_started_and_stopped_together(
    manifest: Path, tmp_path: Path
) -> None:
    cfg = settings(tmp_path, KAFKA_NODES="3", CONSUMER_REPLICAS="2")
    groups = [
        [svc["name"] for svc in group] for group in replica_groups(load_manifest(cfg, manifest))
    ]
    assert groups == [["kafka", "kafka-2", "kafka-3"], ["kafka-topics"], ["consumer", "consumer-2"]]
