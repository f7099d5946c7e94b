"""Run the whole platform in the foreground: web server, Celery worker, Celery beat.

``make run`` calls this after migrating. Each process's output is prefixed
with its name; Ctrl-C (or SIGTERM) stops all three, and if one of them dies
the others are stopped too and the exit status says so.

Environment: PORT (8000), HOST (127.0.0.1), WORKER_CONCURRENCY (4), and with
PLATFORM_ENV=production WEB_CONCURRENCY (2): gunicorn instead of runserver.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLORS = {"web": "\033[36m", "worker": "\033[33m", "beat": "\033[35m"}


def commands() -> dict[str, list[str]]:
    python = sys.executable
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    data_dir = Path(os.environ.get("DATA_DIR", ROOT / "var"))
    embedded = os.environ.get("CELERY_BROKER_URL", "filesystem://") == "filesystem://"
    # The embedded (filesystem) broker was measured with the thread pool; on a
    # real broker the default prefork pool isolates tasks in processes.
    pool = ["--pool=threads"] if embedded else []
    concurrency = os.environ.get("WORKER_CONCURRENCY", "4")
    if os.environ.get("PLATFORM_ENV", "development").lower() == "production":
        # A real WSGI server; static files are collected and served by whitenoise.
        subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], check=True)
        web = [
            python,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"{host}:{port}",
            "--workers",
            os.environ.get("WEB_CONCURRENCY", "2"),
            "--access-logfile",
            "-",
        ]
    else:
        web = [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]
    return {
        "web": web,
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "-n",
            "worker@%h",
            *pool,
        ],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=",
            f"--schedule={data_dir / 'celerybeat-schedule'}",
        ],
    }


def _pump(name: str, stream, tty: bool) -> None:
    prefix = f"{COLORS[name]}{name:>6} |\033[0m " if tty else f"{name:>6} | "
    for line in iter(stream.readline, ""):
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


def main() -> int:
    tty = sys.stdout.isatty()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes: dict[str, subprocess.Popen] = {}
    for name, command in commands().items():
        processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        threading.Thread(
            target=_pump, args=(name, processes[name].stdout, tty), daemon=True
        ).start()
    port = os.environ.get("PORT", "8000")
    print(
        f"Platform starting: http://{os.environ.get('HOST', '127.0.0.1')}:{port}/admin/ "
        f"(API: /api/v2/, docs: /api/docs/). Ctrl-C stops everything.",
        flush=True,
    )

    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failed = None
    while not stopping.is_set():
        for name, process in processes.items():
            if process.poll() is not None:
                failed = name
                stopping.set()
                break
        time.sleep(0.2)
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    if failed:
        print(f"{failed} exited with status {processes[failed].returncode}; stopped the others.")
        return 1
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
