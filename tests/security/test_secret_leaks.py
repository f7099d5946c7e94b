"""Issue 9.3: secrets that leaked, and no longer do.

(a) an OAuth 2.0 access token obtained during a call; (b) a remote echoing the
credentials into a notified response; (c) ``dumpdata``; (d) the authorization
code in the callback's access log; (e) API tokens stored in clear.
"""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from django.core.management import call_command
from django.test import Client

from apps.data.services import data_type_save, records_save
from apps.gateway.models import RequestLog
from apps.gateway.services import connection_save, webhook_save
from apps.security import services
from apps.security.models import Authorization, AuthorizationClient
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Execution, Flow, Notification, Task, Translator
from apps.workflows.services import element_save, flow_enqueue

from .attackers import EchoRemote

ITEM = {"type": "object", "properties": {"id": {"type": "integer"}}}


@pytest.fixture
def echo():
    with EchoRemote() as remote:
        yield remote


def _run(flow) -> Task:
    task = flow_enqueue(flow=flow)
    task_run(task.pk)
    task.refresh_from_db()
    return task


def _everywhere_a_user_looks(task, api, admin_client) -> str:
    """Every place the issue found the token: the task's error (API), its notifications
    (API and admin), its executions, the request log."""
    notification = Notification.objects.filter(task=task).first()
    assert notification is not None
    return "\n".join(
        [
            api.get(f"/api/v2/setup/task/{task.pk}/").content.decode(),
            api.get(f"/api/v2/setup/notification/?task={task.pk}").content.decode(),
            admin_client.get("/admin/workflows/notification/").content.decode(),
            admin_client.get(
                f"/admin/workflows/notification/{notification.pk}/change/"
            ).content.decode(),
            admin_client.get(f"/admin/workflows/task/{task.pk}/change/").content.decode(),
            json.dumps(list(Execution.objects.values("error"))),
            json.dumps(
                list(RequestLog.objects.values("url", "request_headers", "response_body", "error")),
                default=str,
            ),
        ]
    )


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_a_token_obtained_during_the_call_is_hidden_everywhere(
    namespace, echo, api, admin_client, caplog
):
    """(a) The remote refuses with a 422 that quotes the header it got."""
    echo.status = 422
    provider = services.authorization_provider_save(
        namespace=namespace, name="p", token_url=f"{echo.url}/oauth/token"
    )
    client = services.authorization_client_save(
        namespace=namespace, name="c", provider=provider, client_id="id",
        client_secret="client-secret-canary",
    )  # fmt: skip
    oauth = services.authorization_save(
        namespace=namespace, name="o", kind="oauth2", client=client,
        grant_type="client_credentials",
    )  # fmt: skip
    connection = connection_save(
        namespace=namespace, name="api", base_url=echo.url, authorization=oauth, max_attempts=1
    )
    webhook = webhook_save(namespace=namespace, name="items", path="items", connection=connection)
    target = data_type_save(namespace=namespace, name="Item", schema=ITEM)
    parse = element_save(model=Translator, namespace=namespace, name="parse", type="import",
                         style="mapping", target_data_type=target)  # fmt: skip
    flow = element_save(model=Flow, namespace=namespace, name="import", translator=parse,
                        webhook=webhook, max_attempts=1)  # fmt: skip
    with caplog.at_level(logging.INFO):
        task = _run(flow)
    assert task.status == "failed"
    [token] = echo.issued
    assert echo.seen[-1]["headers"]["Authorization"] == f"Bearer {token}"  # it was sent
    seen = _everywhere_a_user_looks(task, api, admin_client)
    assert "HTTP 422" in seen and "[REDACTED]" in seen
    assert token not in seen and "client-secret-canary" not in seen
    assert token not in caplog.text  # the web/worker log


@pytest.mark.parametrize(
    ("kind", "fields", "sent"),
    [
        ("basic", {"username": "u", "password": "basic-pass-canary"},
         base64.b64encode(b"u:basic-pass-canary").decode()),
        ("bearer", {"token": "bearer-token-canary"}, "bearer-token-canary"),
        ("api_key", {"key_name": "X-Partner", "key_value": "api-key-canary"}, "api-key-canary"),
        ("api_key", {"key_name": "partner", "key_value": "query-key-canary", "key_in": "query"},
         "query-key-canary"),
    ],
)  # fmt: skip
def test_a_notified_response_hides_the_credentials_it_echoes(
    kind, fields, sent, namespace, echo, api, admin_client
):
    """(b) notify_response keeps the answer's body, redacted like the request log."""
    auth = services.authorization_save(namespace=namespace, name="a", kind=kind, **fields)
    connection = connection_save(
        namespace=namespace, name="api", base_url=echo.url, authorization=auth, max_attempts=1
    )
    webhook = webhook_save(namespace=namespace, name="post", path="items", method="POST",
                           connection=connection)  # fmt: skip
    source = data_type_save(namespace=namespace, name="Item", schema=ITEM)
    records_save(data_type=source, records=[{"id": 1}])
    render = element_save(model=Translator, namespace=namespace, name="render", type="export",
                          style="template", source_data_type=source,
                          template='{"id": {{ id }}}')  # fmt: skip
    flow = element_save(model=Flow, namespace=namespace, name="export", translator=render,
                        webhook=webhook, scope="all", notify_response=True)  # fmt: skip
    task = _run(flow)
    assert task.status == "completed"
    assert sent in json.dumps(echo.seen[-1])  # the credentials were sent, and echoed
    [notification] = Notification.objects.filter(task=task, message__contains="answered")
    assert "values" in notification.attachment["body"]  # the body is kept, not dropped
    shown = json.dumps(notification.attachment) + _everywhere_a_user_looks(task, api, admin_client)
    assert sent not in shown
    assert fields.get("password", fields.get("token", fields.get("key_value"))) not in shown


# --- (c) dumpdata ----------------------------------------------------------------------------


def test_dumpdata_keeps_secrets_encrypted_and_loaddata_restores_them(namespace, tmp_path):
    services.authorization_save(
        namespace=namespace, name="basic", kind="basic", username="u", password="dump-canary-1"
    )
    provider = services.authorization_provider_save(
        namespace=namespace, name="p", token_url="https://auth.example/token"
    )
    services.authorization_client_save(
        namespace=namespace, name="c", provider=provider, client_id="id",
        client_secret="dump-canary-2",
    )  # fmt: skip
    connection_save(namespace=namespace, name="api", base_url="https://api.example")
    dumps = {}
    for fmt in ("json", "jsonl", "xml", "python"):
        out = io.StringIO()
        call_command("dumpdata", "security", format=fmt if fmt != "python" else "json",
                     stdout=out)  # fmt: skip
        dumps[fmt] = out.getvalue()
        assert "dump-canary-1" not in dumps[fmt] and "dump-canary-2" not in dumps[fmt], fmt
    fixture = tmp_path / "security.json"
    fixture.write_text(dumps["json"])
    Authorization.objects.all().delete()
    AuthorizationClient.objects.all().delete()
    call_command("loaddata", str(fixture), stdout=io.StringIO())
    assert Authorization.objects.get(name="basic").password == "dump-canary-1"
    assert AuthorizationClient.objects.get(name="c").client_secret == "dump-canary-2"
    # Loaded again: still encrypted once, not twice.
    call_command("loaddata", str(fixture), stdout=io.StringIO())
    assert Authorization.objects.get(name="basic").password == "dump-canary-1"


def test_a_fixture_written_by_hand_with_plain_secrets_still_loads(namespace, tmp_path):
    fixture = tmp_path / "plain.json"
    fixture.write_text(json.dumps([{
        "model": "security.authorization", "pk": 99,
        "fields": {"namespace": namespace.pk, "name": "hand", "kind": "bearer",
                   "token": "hand-written-token", "created_at": "2026-01-01T00:00:00Z",
                   "updated_at": "2026-01-01T00:00:00Z"},
    }]))  # fmt: skip
    call_command("loaddata", str(fixture), stdout=io.StringIO())
    assert Authorization.objects.get(pk=99).token == "hand-written-token"
    out = io.StringIO()
    call_command("dumpdata", "security.authorization", stdout=out)
    assert "hand-written-token" not in out.getvalue()


# --- (d) the OAuth callback's access log --------------------------------------------------

SERVERS = {
    "runserver": ["manage.py", "runserver", "127.0.0.1:{port}", "--noreload"],
    "gunicorn": ["-m", "gunicorn", "config.wsgi", "--bind", "127.0.0.1:{port}",
                 "--workers", "1", "--access-logfile", "-"],
}  # fmt: skip


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_the_authorization_code_stays_out_of_the_access_log(server, tmp_path):
    """The provider sends the browser back with ``?code=…``: the web server's access
    log (runserver in development, gunicorn in production) must not keep it."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    from tests.test_run import free_port

    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    log = tmp_path / "access.log"
    args = [part.format(port=port) for part in SERVERS[server]]
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, *args], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/admin/login/", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):  # a slow answer: not up yet
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
        code = "authorization-code-canary-42"
        answer = requests.get(f"{base}/security/oauth/callback/?code={code}&state=s1", timeout=10)
        assert answer.status_code == 200 and "/admin/login/" in answer.url  # sign in first
        time.sleep(0.5)  # the access lines are written after the answers
    finally:
        process.terminate()
        process.wait(timeout=20)
    text = log.read_text()
    assert "/security/oauth/callback/" in text, text[-2000:]
    assert code not in text and "[REDACTED]" in text


# --- (e) API tokens ---------------------------------------------------------------------


def _columns_of_token_table() -> str:
    from knox.models import AuthToken

    return json.dumps(list(AuthToken.objects.values()), default=str)


def test_api_tokens_are_stored_hashed_shown_once_and_revocable(admin_user, admin_client):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    answer = anonymous.post(
        "/api/v2/auth/token/", {"username": "admin", "password": "admin-Passw0rd!"}, format="json"
    )
    assert answer.status_code == 200
    token, expiry = answer.json()["token"], answer.json()["expiry"]
    assert len(token) == 64 and expiry  # it expires (API_TOKEN_TTL_DAYS)
    assert token not in _columns_of_token_table()  # only its digest is kept
    assert token not in admin_client.get("/admin/knox/authtoken/").content.decode()
    again = anonymous.post(
        "/api/v2/auth/token/", {"username": "admin", "password": "admin-Passw0rd!"}, format="json"
    )
    assert again.json()["token"] != token  # a new one each time; the old one is not shown again

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v2/setup/namespace/").status_code == 200
    assert client.post("/api/v2/auth/logout/").status_code == 204
    assert client.get("/api/v2/setup/namespace/").status_code == 401  # revoked
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {again.json()['token']}")
    assert other.get("/api/v2/setup/namespace/").status_code == 200  # the other one still works
    assert other.post("/api/v2/auth/logout_all/").status_code == 204
    assert other.get("/api/v2/setup/namespace/").status_code == 401


def test_an_expired_token_is_refused(admin_user):
    from datetime import timedelta

    from django.utils import timezone
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from apps.security.tokens import api_token_create

    instance, token = api_token_create(user=admin_user, ttl=timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v2/setup/namespace/").status_code == 200
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v2/setup/namespace/").status_code == 401


def test_the_commands_print_a_token_once(db, monkeypatch, django_user_model):
    from django.core.management import CommandError
    from rest_framework.test import APIClient

    monkeypatch.setenv("ADMIN_USER", "boss")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-Long-passw0rd")
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    printed = out.getvalue().split("API token: ")[1].strip()
    assert printed not in _columns_of_token_table()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {printed}")
    assert client.get("/api/v2/setup/namespace/").status_code == 200
    again = io.StringIO()
    call_command("ensure_admin", stdout=again)
    assert "API token" not in again.getvalue()  # never shown twice

    out = io.StringIO()
    call_command("create_api_token", "boss", "--days", "0", stdout=out, stderr=io.StringIO())
    second = out.getvalue().strip()
    client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert client.get("/api/v2/setup/namespace/").status_code == 200
    call_command("create_api_token", "boss", "--revoke", stdout=io.StringIO())
    assert client.get("/api/v2/setup/namespace/").status_code == 401
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_api_token", "nobody")
