"""`make run`'s platform, started as a user would: web, worker and beat together.

Migrates a fresh SQLite database in a temporary DATA_DIR, creates the admin,
starts config.runner, uses the admin and the API over HTTP, has the worker
store records, then stops everything with Ctrl-C (SIGINT).
"""

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


@pytest.fixture(params=["development", "production"])
def platform(request, tmp_path):
    port = free_port()
    production = {}
    if request.param == "production":  # gunicorn, whitenoise, secrets from the environment
        production = {
            "PLATFORM_ENV": "production",
            "SECRET_KEY": "test-" + "k" * 50,
            "FERNET_KEYS": "Xw1Ai2w0y8IHzNhmL0XBF1qK_LjBfdSDHVG6wLMqOyc=",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
        }
    env = dict(
        os.environ,
        **production,
        DATA_DIR=str(tmp_path),
        PORT=str(port),
        ADMIN_USER="boss",
        ADMIN_PASSWORD="a-Long-passw0rd",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        PYTHONUNBUFFERED="1",
    )
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://"):  # not the queue of the suite's own worker
        env["CELERY_BROKER_URL"] = re.sub(r"/\d+$", "/14", broker)
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
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/admin/login/", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet (or slow)
                time.sleep(0.2)
        else:
            raise AssertionError((tmp_path / "run.log").read_text()[-3000:])
        yield base, token, process, tmp_path / "run.log", request.param
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Stop the runner as Ctrl-C does: it stops web, worker and beat (a SIGKILL would leave
    them running, on the broker of the next run)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
    output = log.read_text()
    assert "worker |" in output and "beat |" in output and "web |" in output
    served_by_gunicorn = "Booting worker" in output
    assert served_by_gunicorn == (mode == "production"), output[-2000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/admin/login/", timeout=2)
