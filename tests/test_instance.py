"""Settings from .env, and commands against an instance that is not set up.

Run as a user would, in subprocesses: `manage.py migrate` sets an instance up
in the DATA_DIR that .env names; a second "shell" (no DATA_DIR in its
environment) sees the same instance; a command against a missing or
unmigrated instance says so in one line and creates nothing.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_VARIABLES = ("DATA_DIR", "DATABASE_URL", "CELERY_BROKER_URL", "ENV_FILE")


def manage(*args, env_file: Path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in INSTANCE_VARIABLES}
    env.update(ENV_FILE=str(env_file), **extra)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_commands_in_another_shell_use_the_instance_named_in_env_file(tmp_path):
    data = tmp_path / "instance"
    env_file = tmp_path / ".env"
    env_file.write_text(f"# the platform's instance\nDATA_DIR={data}\n")
    assert manage("migrate", "-v0", env_file=env_file).returncode == 0
    assert (data / "db.sqlite3").is_file() and (data / "fernet_key").is_file()
    key = (data / "fernet_key").read_text()
    # "Another shell": nothing but .env says where the instance is.
    fetched = manage("fetch_webhook", "crm.nope", env_file=env_file)
    assert fetched.returncode == 1
    assert fetched.stderr.strip() == "CommandError: There is no webhook crm.nope."
    assert (data / "fernet_key").read_text() == key


def test_commands_against_no_instance_say_so_and_create_nothing(tmp_path):
    env_file = tmp_path / "missing.env"
    for data in (tmp_path / "nothing", tmp_path):
        before = sorted(tmp_path.rglob("*"))
        result = manage("fetch_webhook", "crm.x", env_file=env_file, DATA_DIR=str(data))
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "No platform instance here" in lines[0], result.stderr
        assert "make run" in lines[0]
        assert sorted(tmp_path.rglob("*")) == before  # no database, no keys, no folders


def test_an_unmigrated_database_is_named(tmp_path):
    (tmp_path / "db.sqlite3").touch()
    for name in ("secret_key", "fernet_key"):
        (tmp_path / name).write_text("k" * 44 if name == "secret_key" else
                                     "Xw1Ai2w0y8IHzNhmL0XBF1qK_LjBfdSDHVG6wLMqOyc=")  # fmt: skip
    result = manage("run_flow", "crm.x", env_file=tmp_path / "none", DATA_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "is not migrated" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite3", "fernet_key", "secret_key"]
