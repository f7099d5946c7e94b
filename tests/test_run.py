"""`make run`'s platform, started as a user would: web, worker and beat together.

Migrates a fresh SQLite database in a temporary DATA_DIR, creates the admin,
starts config.runner, uses the admin and the API over HTTP, has the worker
store records, then stops everything with Ctrl-C (SIGINT). Other cases: a
crashed child is started again, Ctrl-C stops a worker busy in a long task
within seconds, and killing the runner outright takes its children with it.

Every process a test starts is stopped when it ends, whatever happened: the
runner and each of its descendants, found through /proc.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """The processes under ``pid`` (children, grandchildren…), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended: only its parent has not read its status yet


def kill_all(pids) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def wait_gone(pids, timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {pid for pid in pids if alive(pid)}
        if not left:
            return left
        time.sleep(0.1)
    return {pid for pid in pids if alive(pid)}


def is_up(url: str) -> bool:
    """The server answers 200; a refused connection or a slow answer means "not up yet"
    (gunicorn's socket accepts before a worker is ready)."""
    try:
        return requests.get(url, timeout=5).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False


@pytest.fixture(params=["development", "production"])
def platform(request, tmp_path):
    yield from start_platform(request.param, tmp_path)


@pytest.fixture
def dev_platform(tmp_path):
    yield from start_platform("development", tmp_path)


def start_platform(mode, tmp_path):
    port = free_port()
    production = {}
    if mode == "production":  # gunicorn, whitenoise, secrets from the environment
        production = {
            "PLATFORM_ENV": "production",
            "SECRET_KEY": "test-" + "k" * 50,
            "FERNET_KEYS": "Xw1Ai2w0y8IHzNhmL0XBF1qK_LjBfdSDHVG6wLMqOyc=",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0",  # plain http here; production redirects to https
        }
    env = dict(
        os.environ,
        **production,
        DATA_DIR=str(tmp_path),
        PORT=str(port),
        ADMIN_USER="boss",
        ADMIN_PASSWORD="a-Long-passw0rd",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        ENV_FILE=str(tmp_path / "no.env"),  # not the developer's .env
        PYTHONUNBUFFERED="1",
    )
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://"):  # not the queue of the suite's own worker
        env["CELERY_BROKER_URL"] = re.sub(r"/\d+$", "/14", broker)
        # Its own queue too: another run on this machine may use the same Redis database.
        env["CELERY_QUEUE"] = f"test-run-{os.getpid()}-{port}"
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    created = subprocess.run(
        [python, "manage.py", "ensure_admin"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = re.search(r"API token: (\w+)", created.stdout).group(1)
    again = subprocess.run(
        [python, "manage.py", "ensure_admin"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "exists already" in again.stdout
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [python, "-m", "config.runner"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    started: set[int] = set()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while not is_up(f"{base}/admin/login/"):
            started |= descendants(process.pid)
            assert process.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            time.sleep(0.2)
        started |= descendants(process.pid)
        yield base, token, process, tmp_path / "run.log", mode
    finally:
        started |= descendants(process.pid) if process.poll() is None else set()
        if process.poll() is None:
            process.kill()
            process.wait()
        kill_all(started)
        wait_gone(started, 10)
        log.close()


def test_make_run_serves_admin_api_and_runs_tasks(platform):
    base, token, process, log, mode = platform
    session = requests.Session()
    login_page = session.get(f"{base}/admin/login/")
    csrf = session.cookies["csrftoken"]
    assert 'name="csrfmiddlewaretoken"' in login_page.text
    signed_in = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={"username": "boss", "password": "a-Long-passw0rd", "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base}/admin/login/"},
    )
    assert "Data types" in signed_in.text
    assert session.get(f"{base}/static/ipaas/json-editor.js").status_code == 200

    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    assert api.post(f"{base}/api/v2/setup/namespace/", json={"name": "shop"}).status_code == 201
    created = api.post(
        f"{base}/api/v2/setup/data_type/",
        json={"namespace": "shop", "name": "Order", "schema": {"type": "object"}},
    )
    assert created.status_code == 201, created.text
    queued = api.post(f"{base}/api/v2/shop/Order/?async=1", json=[{"id": i} for i in range(20)])
    assert queued.status_code == 202
    deadline = time.monotonic() + 30
    while api.get(f"{base}/api/v2/shop/Order/").json()["count"] < 20:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)

    children = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
    assert not wait_gone(children, 5), log.read_text()[-3000:]
    output = log.read_text()
    assert "worker |" in output and "beat |" in output and "web |" in output
    # DATA_DIR came from the environment only: the runner says other shells won't see it.
    assert f"Note: DATA_DIR={log.parent} is set in this shell only" in output
    served_by_gunicorn = "Booting worker" in output
    assert served_by_gunicorn == (mode == "production"), output[-2000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/admin/login/", timeout=2)


def child_pid(runner: int, marker: str) -> int | None:
    for pid in descendants(runner):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in command and os.getpgid(pid) == pid:  # the child itself, not its pool
            return pid
    return None


def test_a_crashed_child_is_started_again_and_ctrl_c_stops_a_busy_worker(dev_platform):
    base, token, process, log, _ = dev_platform
    beat = child_pid(process.pid, " beat ")
    assert beat, log.read_text()[-2000:]
    os.kill(beat, signal.SIGKILL)  # as a crash would
    deadline = time.monotonic() + 20
    while (child_pid(process.pid, " beat ") or beat) == beat:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    output = log.read_text()
    assert "beat exited with status -9; starting it again in 1 s." in output
    assert process.poll() is None and is_up(f"{base}/admin/login/")  # the others went on

    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    assert api.post(f"{base}/api/v2/setup/namespace/", json={"name": "shop"}).status_code == 201
    spin = api.post(
        f"{base}/api/v2/setup/algorithm/",
        json={"namespace": "shop", "name": "spin", "code": "n = 0\nwhile True:\n    n += 1",
              "time_limit": 300},
    )  # fmt: skip
    assert spin.status_code == 201, spin.text
    task = api.post(f"{base}/api/v2/setup/algorithm/{spin.json()['id']}/run/", json={}).json()
    deadline = time.monotonic() + 30
    while api.get(f"{base}/api/v2/setup/task/{task['id']}/").json()["status"] != "running":
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    children = descendants(process.pid)
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0, log.read_text()[-3000:]
    assert time.monotonic() - began < 12, log.read_text()[-3000:]
    assert not wait_gone(children, 3), log.read_text()[-3000:]


def test_killing_the_runner_kills_its_children(dev_platform):
    base, _token, process, log, _ = dev_platform
    children = descendants(process.pid)
    assert len(children) >= 3
    process.kill()  # SIGKILL: the runner cannot stop anything itself
    process.wait()
    assert not wait_gone(children, 10), log.read_text()[-3000:]
    assert not is_up(f"{base}/admin/login/")
