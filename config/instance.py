"""An instance of the platform: its DATA_DIR (SQLite file, broker folders, keys) and database.

``manage.py migrate`` (which ``make run`` calls) sets an instance up: the
folders, and the development keys that settings generated, written once.
Every other command first checks that the instance it would use is set up,
and if not says so in one line and exits, creating nothing: a second shell
that does not see ``make run``'s DATA_DIR must not start a second, empty
instance with new keys.
"""

from __future__ import annotations

import os
from pathlib import Path

# Commands that need no set-up instance (or set one up).
FREE_COMMANDS = {
    "migrate", "makemigrations", "check", "help", "version", "collectstatic", "findstatic",
    "diffsettings", "test", "sqlmigrate", "squashmigrations", "optimizemigration",
    "startapp", "startproject", "compilemessages", "makemessages", "shell", "dbshell",
    "showmigrations", "collection_schema",
}  # fmt: skip
INSTANCE_VARIABLES = ("DATA_DIR", "DATABASE_URL", "CELERY_BROKER_URL")


def create() -> None:
    """Make the instance's folders and write its development keys (if not there yet)."""
    from django.conf import settings

    data = Path(settings.DATA_DIR)
    for folder in (data, Path(settings.STATIC_ROOT)):
        folder.mkdir(parents=True, exist_ok=True)
    if data.stat().st_uid == os.getuid():
        # Keys and the SQLite database: for the platform's user only (user code runs as
        # another user, even where the runner sandbox is the weaker fallback).
        data.chmod(0o700)
    if settings.CELERY_BROKER_URL == "filesystem://":
        for name in ("out", "processed", "control"):
            (Path(settings.BROKER_DIR) / name).mkdir(parents=True, exist_ok=True)
    for filename, value in settings.UNSAVED_SECRETS.items():
        key_file = data / filename
        try:
            with open(key_file, "x") as file:  # never replace a key: secrets depend on it
                file.write(value)
            key_file.chmod(0o600)
        except FileExistsError:
            pass


def where() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return str(db["NAME"])
    return f"{db['ENGINE'].rsplit('.', 1)[-1]} database {db.get('NAME')} on {db.get('HOST')}"


HINT = (
    "run `make run` (or manage.py migrate) to set one up, or point DATA_DIR / DATABASE_URL "
    "at the instance `make run` uses (put them in .env so every shell sees them)"
)


def problem() -> str | None:
    """Why this instance cannot serve a command (in one line), or None when it can."""
    from django.conf import settings
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3") and not Path(db["NAME"]).is_file():
        return f"No platform instance here: there is no database at {where()}; {HINT}."
    if settings.UNSAVED_SECRETS:
        missing = ", ".join(sorted(settings.UNSAVED_SECRETS))
        return f"The instance in {settings.DATA_DIR} has no key file(s) {missing}; {HINT}."
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return f"The database at {where()} cannot be used ({error}); {HINT}."
    if plan:
        return (
            f"The database at {where()} is not migrated ({len(plan)} migration(s) to apply): "
            "run `manage.py migrate` (`make run` does)."
        )
    return None


def guard(argv: list[str]) -> str | None:
    """What manage.py must say instead of running ``argv``'s command, or None."""
    command = argv[1] if len(argv) > 1 else "help"
    if command.startswith("-") or command in FREE_COMMANDS:
        if command == "migrate":
            create()
        return None
    return problem()


def env_file_values(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of a .env file (quotes removed), without reading it into os.environ."""
    values = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and key and not key.startswith("#"):
                values[key.strip()] = value.strip().strip("'\"")
    return values


def shell_only_settings(root: Path) -> list[str]:
    """Instance variables set in this shell but not in .env: other shells will not see them."""
    path = Path(os.environ.get("ENV_FILE") or root / ".env")
    saved = env_file_values(path)
    return [
        f"{name}={os.environ[name]}"
        for name in INSTANCE_VARIABLES
        if os.environ.get(name) and saved.get(name) != os.environ[name]
    ]
