"""Start a real Celery worker process against the test database and broker.

The worker gets the test database's name (SQLite file or PostgreSQL test
database) and the same broker as the tests (the embedded filesystem broker by
default, CELERY_BROKER_URL in the services run). Stale messages are purged
first: an earlier run's leftovers must not execute here (FACTS.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
# The session's worker consumes this queue only, and tests route tasks to it only while
# they use the worker (the ``celery_worker_process`` fixture): a test that plays the worker
# itself (runs pending tasks in-process) must not have them taken by a worker still alive
# from an earlier test.
SESSION_QUEUE = f"tests-session-{os.getpid()}"


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def purge_broker(queues: tuple[str, ...] = ()) -> None:
    if settings.CELERY_BROKER_URL == "filesystem://":
        for folder in ("out", "processed"):
            path = settings.BROKER_DIR / folder
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True, exist_ok=True)
    else:
        from config.celery import app

        app.control.purge()
        with app.connection_for_write() as connection:
            for queue in queues:
                with contextlib.suppress(Exception):  # a queue never declared: nothing to purge
                    connection.default_channel.queue_purge(queue)


def start_worker(
    *, concurrency: int = 2, env: dict[str, str] | None = None, queue: str | None = None
) -> subprocess.Popen:
    """A worker on the test database; ``env`` adds variables to its environment, ``queue``
    makes it consume that queue only (see :func:`tasks_routed_to`)."""
    purge_broker((queue,) if queue else ())
    env = dict(os.environ, DATABASE_URL=test_database_url(), PYTHONUNBUFFERED="1", **(env or {}))
    pool = ["--pool=threads"] if settings.CELERY_BROKER_URL == "filesystem://" else []
    if queue:
        pool += ["-Q", queue]
    log = open(settings.DATA_DIR / "test-worker.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "-n",
            f"test-{queue or 'default'}-{os.getpid()}@%h",
            *pool,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log.name  # type: ignore[attr-defined]
    return process


def start_beat(*, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Celery beat with django-celery-beat's database scheduler, on the test database."""
    env = dict(os.environ, DATABASE_URL=test_database_url(), PYTHONUNBUFFERED="1", **(env or {}))
    log = open(settings.DATA_DIR / "test-beat.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            "--scheduler",
            "apps.workflows.beat:DatabaseScheduler",
            "--pidfile=",
            f"--schedule={settings.DATA_DIR / 'test-beat-schedule'}",
            "--max-interval=1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log.name  # type: ignore[attr-defined]
    return process


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(predicate, *, timeout: float = 30, what: str = "condition", process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"worker died while waiting for {what}: {worker_log(process)}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; {worker_log(process)}")


def worker_log(process) -> str:
    path = getattr(process, "log_path", None)
    return Path(path).read_text()[-3000:] if path else ""


@contextlib.contextmanager
def tasks_routed_to(queue: str):
    """Tasks enqueued by this process go to ``queue`` meanwhile: to a worker of its own
    (started with ``queue=``), never to the session's worker."""
    from config.celery import app

    previous = app.conf.task_routes

    def route(routes) -> None:
        app.conf.task_routes = routes
        app.amqp.flush_routes()
        with contextlib.suppress(AttributeError):
            del app.amqp.router  # a cached property: rebuilt from the routes on next use

    route({"*": {"queue": queue}})
    try:
        yield
    finally:
        route(previous)
