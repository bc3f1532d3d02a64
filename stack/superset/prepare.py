"""Superset's preparation in one process (each separate `superset` CLI call would pay ~7 s of app
start): the metadata schema upgrade, `superset init` (permissions and roles), the local admin
user, and the import of the dashboards/ folder, whose files win over edits made in the UI.
Idempotent: the superset-prepare job (stack/services.json) and compose's superset-init run it on
every start, with Superset's virtualenv python and SUPERSET_CONFIG_PATH set.

Environment: SUPERSET_ADMIN_USER / SUPERSET_ADMIN_PASSWORD (no user when the password is empty),
ANALYST_PASSWORD (the warehouse login, never in the files), SUPERSET_WAREHOUSE_HOST,
SUPERSET_WAREHOUSE_PORT and WAREHOUSE_DB (where the warehouse is, from this side),
SUPERSET_DASHBOARDS_DIR (default: the repository's dashboards/).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
# The only role the warehouse connection in the files may log in as.
WAREHOUSE_USER = "analyst"
STARTED = time.monotonic()


def lap(step: str) -> None:
    """One progress line with the seconds since the start."""
    print(f"[superset-prepare] {step} ({time.monotonic() - STARTED:.1f}s)", flush=True)


def dashboards_dir() -> Path:
    """The bundle to import: SUPERSET_DASHBOARDS_DIR or the repository's dashboards/."""
    return Path(os.environ.get("SUPERSET_DASHBOARDS_DIR") or REPO / "dashboards")


def warehouse_uri(uri: str, host: str, port: str, database: str) -> str:
    """The files' warehouse URI pointed at this deployment's warehouse; only the analyst role
    (read-only on marts and analysis) is accepted, and its masked password is kept."""
    from sqlalchemy.engine.url import make_url

    url = make_url(uri)
    if url.username != WAREHOUSE_USER:
        raise SystemExit(
            f"Importing dashboards: the warehouse connection logs in as {url.username!r}, "
            f"expected {WAREHOUSE_USER!r} (Superset only reads the warehouse as the analyst)"
        )
    url = url.set(host=host, port=int(port), database=database)
    return url.render_as_string(hide_password=False)


def read_bundle(root: Path, host: str, port: str, database: str) -> dict[str, str]:
    """Every YAML file of the bundle by its path inside it, the database files rewritten by
    warehouse_uri; a missing or empty folder fails naming it."""
    import yaml

    files = sorted(root.rglob("*.yaml")) if root.is_dir() else []
    if not files:
        raise SystemExit(
            f"Importing dashboards: no YAML file in {root} (set SUPERSET_DASHBOARDS_DIR or "
            "restore the repository's dashboards/ folder)"
        )
    contents = {}
    for path in files:
        name, text = path.relative_to(root).as_posix(), path.read_text()
        if name.startswith("databases/"):
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = warehouse_uri(config["sqlalchemy_uri"], host, port, database)
            text = yaml.safe_dump(config, sort_keys=False)
        contents[name] = text
    return contents


def import_failure(error: BaseException, root: Path) -> str:
    """The reason an import failed, from Superset's exception chain: its wrapper only says
    "Import failed for an unknown reason", the validation messages (by file) sit in the cause."""
    cause: BaseException | None = error
    while cause is not None:
        messages = getattr(cause, "normalized_messages", None)
        if callable(messages) and messages():
            lines = [f"  {root / name}: {problem}" for name, problem in messages().items()]
            return "\n".join(lines)
        if cause.__cause__ is None and cause.__context__ is None:
            break
        cause = cause.__cause__ or cause.__context__
    return f"  {type(cause).__name__}: {cause}"


def upgrade_and_init() -> None:
    """`superset db upgrade` and `superset init`, in this process."""
    import superset
    from flask_migrate import upgrade
    from superset import security_manager
    from superset.extensions import appbuilder

    upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
    lap("metadata schema upgraded")
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()
    lap("permissions and roles synced")


def ensure_admin(username: str, password: str) -> None:
    """The local admin user, created when missing; its password follows the setting."""
    from superset import security_manager as sm

    user = sm.find_user(username=username)
    if user is None:
        role = sm.find_role(sm.auth_role_admin)
        if not sm.add_user(username, "Admin", "User", f"{username}@localhost", role, password):
            raise SystemExit(f"Creating the Superset admin user {username!r} failed (see above)")
        lap(f"admin user {username} created")
    else:
        sm.reset_password(user.id, password)
        lap(f"admin user {username}: password synced")


def import_dashboards(root: Path, contents: dict[str, str], admin: str) -> None:
    """ImportAssetsCommand over the bundle: every object is overwritten by its uuid."""
    from flask import g
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand

    # Imported objects are owned by the importing user (none when no admin user is set up).
    g.user = security_manager.find_user(username=admin)
    passwords = {name: os.environ["ANALYST_PASSWORD"] for name in contents if "databases/" in name}
    try:
        ImportAssetsCommand(contents, passwords=passwords).run()
    except Exception as error:  # Superset wraps every failure: report the real reason
        raise SystemExit(
            f"Importing dashboards from {root} failed:\n{import_failure(error, root)}"
        ) from error
    lap(f"{len(contents)} files imported from {root}")


def main() -> None:
    """Upgrade, init, admin, import; a failing step exits non-zero with its reason."""
    root = dashboards_dir()
    contents = read_bundle(
        root,
        os.environ["SUPERSET_WAREHOUSE_HOST"],
        os.environ["SUPERSET_WAREHOUSE_PORT"],
        os.environ["WAREHOUSE_DB"],
    )
    from superset.app import create_app
    from superset.extensions import db

    app = create_app()
    lap("app created")
    with app.app_context():
        upgrade_and_init()
        admin = os.environ.get("SUPERSET_ADMIN_USER", "admin")
        if os.environ.get("SUPERSET_ADMIN_PASSWORD"):
            ensure_admin(admin, os.environ["SUPERSET_ADMIN_PASSWORD"])
        db.session.commit()
        import_dashboards(root, contents, admin)
        db.session.commit()
    lap("done")


if __name__ == "__main__":
    sys.exit(main())
