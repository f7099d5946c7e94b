"""Run the whole platform in the foreground: web server, Celery worker, Celery beat.

``make run`` calls this after migrating. Each process's output is prefixed
with its name. A child that dies (a crash, an out-of-memory kill) is started
again with backoff while the others go on. Ctrl-C (or SIGTERM, or closing the
terminal) stops all three within about ten seconds: a warm shutdown, then a
cold one. The children die with the runner even when it is killed outright
(Linux's parent-death signal).

Environment (or the project's .env, as the settings read it): PORT (8000), HOST
(127.0.0.1), WORKER_CONCURRENCY (4), and with PLATFORM_ENV=production
WEB_CONCURRENCY (2): gunicorn instead of runserver.
"""

from __future__ import annotations

import contextlib
import ctypes
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
            "apps.workflows.beat:DatabaseScheduler",
            "--pidfile=",
            f"--schedule={data_dir / 'celerybeat-schedule'}",
        ],
    }


def _pump(name: str, stream, tty: bool) -> None:
    prefix = f"{COLORS[name]}{name:>6} |\033[0m " if tty else f"{name:>6} | "
    for line in iter(stream.readline, ""):
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


PR_SET_PDEATHSIG = 1
try:  # loaded here: a child between fork and exec should do as little as possible
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """Runs in each child before exec: the kernel kills it when the runner dies, even by
    SIGKILL or a closed terminal (Linux; elsewhere the runner's own shutdown must do)."""
    prctl = getattr(_LIBC, "prctl", None)
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# Ctrl-C: a warm shutdown (finish the current tasks) for this long, then a cold one.
WARM_SECONDS = 6.0
COLD_SECONDS = 3.0
# A child that dies is started again after 1 s, 2 s, 4 s… (at most a minute); one that
# ran for a minute before dying starts again from 1 s.
BACKOFF_FIRST, BACKOFF_MAX, STABLE_SECONDS = 1.0, 60.0, 60.0


class Child:
    """One supervised process: its command, the running process, and its restarts."""

    def __init__(self, name: str, command: list[str], env: dict, tty: bool) -> None:
        self.name, self.command, self.env, self.tty = name, command, env, tty
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self.delay = BACKOFF_FIRST
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops them in order
            # PDEATHSIG follows the thread that forked: children start from the main thread.
            preexec_fn=_die_with_parent,
        )
        self.started = time.monotonic()
        self.restart_at = None
        threading.Thread(
            target=_pump, args=(self.name, self.process.stdout, self.tty), daemon=True
        ).start()

    def check(self) -> None:
        """Start again, with backoff, a child that exited on its own."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                print(f"Starting {self.name} again.", flush=True)
                self.start()
            return
        assert self.process is not None
        status = self.process.poll()
        if status is None:
            return
        if now - self.started >= STABLE_SECONDS:
            self.delay = BACKOFF_FIRST
        print(
            f"{self.name} exited with status {status}; starting it again in {self.delay:.0f} s.",
            flush=True,
        )
        self.restart_at = now + self.delay
        self.delay = min(BACKOFF_MAX, self.delay * 2)

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def stop(children: list[Child]) -> None:
    """Warm shutdown (SIGTERM), then cold (SIGQUIT: Celery drops its tasks, which the broker
    delivers again), then SIGKILL: everything is gone within about ten seconds."""
    for signum, seconds in ((signal.SIGTERM, WARM_SECONDS), (signal.SIGQUIT, COLD_SECONDS)):
        for child in children:
            child.signal(signum)
        deadline = time.monotonic() + seconds
        while any(child.alive() for child in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not any(child.alive() for child in children):
            return
        if signum == signal.SIGTERM:
            busy = ", ".join(child.name for child in children if child.alive())
            print(f"Still stopping ({busy}): a cold shutdown now.", flush=True)
    for child in children:
        child.signal(signal.SIGKILL)
    for child in children:
        if child.process is not None:
            child.process.wait()


def load_env_file() -> None:
    """The project's .env (ENV_FILE names another), as the settings read it: its
    variables fill in what the environment does not set (PORT, HOST, DATA_DIR…)."""
    env_file = Path(os.environ.get("ENV_FILE") or ROOT / ".env")
    if env_file.is_file():
        import environ

        environ.Env.read_env(env_file)


def main() -> int:
    load_env_file()
    tty = sys.stdout.isatty()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    children = [Child(name, command, env, tty) for name, command in commands().items()]
    for child in children:
        child.start()
    from config.instance import shell_only_settings

    for setting in shell_only_settings(ROOT):
        print(
            f"Note: {setting} is set in this shell only; manage.py in another shell will not "
            f"see it. Put the line {setting} in .env to make it this project's default.",
            flush=True,
        )
    port = os.environ.get("PORT", "8000")
    print(
        f"Platform starting: http://{os.environ.get('HOST', '127.0.0.1')}:{port}/admin/ "
        f"(API: /api/v2/, docs: /api/docs/). Ctrl-C stops everything.",
        flush=True,
    )
    stopping = threading.Event()

    def on_signal(*_):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # the terminal was closed
    while not stopping.wait(0.2):
        for child in children:
            child.check()
    print("Stopping…", flush=True)
    stop(children)
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
