"""Generated secrets: made once per state directory, kept private, reused, layered, checked."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from .config import load_config, read_env_file
from .proc import StackError
from .secrets import GENERATED, check_secrets, ensure_secrets_file, generate, prepare_secrets

EXAMPLE = """\
STACK_CACHE_DIR=/cache
STACK_STATE_DIR={state}
POSTGRES_MAJOR=17
WAREHOUSE_DB=webshop
POSTGRES_USER=postgres
POSTGRES_PASSWORD=postgres
KAFKA_PORT=9092
FAKESTORE_PORT=3000
AIRFLOW_SECRET_KEY=
AIRFLOW_JWT_SECRET=
AIRFLOW_FERNET_KEY=
AIRFLOW_DB_PASSWORD=
SUPERSET_SECRET_KEY=
SUPERSET_DB_PASSWORD=
"""


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose .env.example leaves every secret empty; no secret in the process env."""
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / ".env.example").write_text(EXAMPLE.format(state=tmp_path / "state"))
    (tmp_path / "repo" / "versions.env").write_text("DENO_VERSION=2.0.0\nKAFKA_VERSION=4.1.0\n")
    for key in read_env_file(tmp_path / "repo" / ".env.example"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path / "repo"


def test_generate_makes_distinct_values_and_a_valid_fernet_key() -> None:
    first, second = generate(), generate()
    assert set(first) == set(GENERATED)
    assert all(len(value) >= 32 for value in first.values())
    assert all(first[key] != second[key] for key in GENERATED)
    assert len(base64.urlsafe_b64decode(first["AIRFLOW_FERNET_KEY"])) == 32


def test_the_file_is_private_and_kept_across_starts(tmp_path: Path) -> None:
    path = ensure_secrets_file(tmp_path / "state")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = read_env_file(path)
    assert set(first) == set(GENERATED)
    ensure_secrets_file(tmp_path / "state")
    assert read_env_file(path) == first


def test_a_missing_key_is_added_and_the_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("AIRFLOW_SECRET_KEY=mine\n")
    ensure_secrets_file(tmp_path)
    values = read_env_file(path)
    assert values["AIRFLOW_SECRET_KEY"] == "mine"
    assert set(values) == set(GENERATED)


def test_secrets_load_over_the_example_and_under_dotenv(root: Path) -> None:
    cfg = load_config("dev", root)
    with pytest.raises(StackError, match="AIRFLOW_FERNET_KEY is empty or a placeholder"):
        check_secrets(cfg)
    prepare_secrets(cfg)
    generated = read_env_file(Path(cfg["STATE_DIR"]) / "secrets.env")
    assert all(cfg[key] == generated[key] for key in GENERATED)
    (root / ".env").write_text("AIRFLOW_JWT_SECRET=from-dotenv-0123456789\n")
    again = load_config("dev", root)
    assert again["AIRFLOW_JWT_SECRET"] == "from-dotenv-0123456789"
    assert again["AIRFLOW_SECRET_KEY"] == generated["AIRFLOW_SECRET_KEY"]


def test_a_placeholder_in_dotenv_is_refused_by_name(root: Path) -> None:
    (root / ".env").write_text("AIRFLOW_SECRET_KEY=change-me-webshop-secret-key\n")
    cfg = load_config("dev", root)
    with pytest.raises(StackError, match="AIRFLOW_SECRET_KEY is empty or a placeholder"):
        prepare_secrets(cfg)


def test_an_instance_made_before_superset_gets_its_secrets_and_keeps_airflows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secrets.env"
    older = {key: f"kept-{key}" for key in GENERATED if key.startswith("AIRFLOW_")}
    path.write_text("".join(f"{key}={value}\n" for key, value in older.items()))
    ensure_secrets_file(tmp_path)
    values = read_env_file(path)
    assert {key: values[key] for key in older} == older
    assert len(values["SUPERSET_SECRET_KEY"]) >= 32
    assert len(values["SUPERSET_DB_PASSWORD"]) >= 32
    assert values["SUPERSET_SECRET_KEY"] != values["SUPERSET_DB_PASSWORD"]


def test_supersets_documented_placeholder_key_is_refused(root: Path) -> None:
    (root / ".env").write_text("SUPERSET_SECRET_KEY=CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET\n")
    cfg = load_config("dev", root)
    with pytest.raises(StackError, match="SUPERSET_SECRET_KEY is empty or a placeholder"):
        prepare_secrets(cfg)
