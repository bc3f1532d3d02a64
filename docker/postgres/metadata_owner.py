"""A metadata database (Airflow's, Superset's) in the compose PostgreSQL, owned by its own role.

Run by the one-shot compose jobs `airflow-init` and `superset-init` (the only containers given
the superuser's password), on every `docker compose up`: idempotent, on a new volume and on an
existing one alike. Usage:

    python metadata_owner.py DATABASE ROLE PASSWORD_VARIABLE

It creates DATABASE if missing (the postgres image creates only `postgres`), then runs
stack/postgres/metadata_owner.sql, shared with the native stack, inside it: the role ROLE with
the password read from the environment variable PASSWORD_VARIABLE (never from argv, which `ps`
shows), the ownership of the database and of what the superuser still owns in it.
"""

import os
import sys
from contextlib import closing
from pathlib import Path

import psycopg2
from psycopg2 import sql

PROJECT_DIR = Path(__file__).resolve().parents[2]


def connect(database: str):
    """A superuser connection to `database`, autocommit: CREATE DATABASE refuses a transaction."""
    connection = psycopg2.connect(
        host=os.environ.get("PGHOST", "postgres"),
        port=int(os.environ.get("PGPORT", "5432")),
        dbname=database,
        user=os.environ["POSTGRES_USER"],
        password=os.environ["POSTGRES_PASSWORD"],
        application_name="metadata-owner",
    )
    connection.autocommit = True
    return connection


def main(database: str, role: str, password_variable: str) -> None:
    owner_sql = (PROJECT_DIR / "stack" / "postgres" / "metadata_owner.sql").read_text()
    password = os.environ[password_variable]
    with closing(connect("postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("select 1 from pg_database where datname = %s", (database,))
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
            print(f"[metadata-owner] created database {database}")
    # The owner script reads the role and its password from two custom settings.
    with closing(connect(database)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select set_config(%s, %s, false), set_config(%s, %s, false)",
            ("webshop.owner_role", role, "webshop.owner_password", password),
        )
        cursor.execute(owner_sql)
    print(f"[metadata-owner] {database} is owned by {role}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("Usage: metadata_owner.py DATABASE ROLE PASSWORD_VARIABLE")
    main(*sys.argv[1:])
