"""`make run`'s runner reads the project's .env as the settings do (PORT, HOST, …)."""

from __future__ import annotations

from config import runner


def test_the_runner_takes_its_port_and_concurrency_from_the_env_file(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=8137\nWORKER_CONCURRENCY=3\nHOST=127.0.0.2\n")
    monkeypatch.setenv("ENV_FILE", str(env_file))
    for name in ("PORT", "WORKER_CONCURRENCY", "HOST", "PLATFORM_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOST", "127.0.0.1")  # the environment wins over the file
    runner.load_env_file()
    # read_env wrote into os.environ: monkeypatch undoes what it set itself only
    try:
        commands = runner.commands()
        assert "127.0.0.1:8137" in commands["web"]
        assert "--concurrency=3" in commands["worker"]
    finally:
        import os

        for name in ("PORT", "WORKER_CONCURRENCY"):
            os.environ.pop(name, None)
