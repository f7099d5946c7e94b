"""Issue 9.9: OAuth 1.0a connections in real use. A full import, page by page, from a
local provider that verifies every HMAC-SHA1 signature (oauthlib's server side) and
refuses replayed nonces; the request log keeps each attempt without the secrets.
"""

from __future__ import annotations

import json

import pytest

from apps.data.models import Record
from apps.data.services import data_type_save
from apps.gateway.models import RequestLog
from apps.gateway.services import connection_save, webhook_save
from apps.workflows.engine.runner import task_run
from apps.workflows.models import Flow, Translator
from apps.workflows.services import element_save, flow_enqueue

CONTACT = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}


@pytest.fixture
def import_flow(namespace, remote, make_authorization):
    def build(**authorization_fields):
        oauth1 = make_authorization("oauth1", **authorization_fields)
        connection = connection_save(
            namespace=namespace, name="provider", base_url=remote.url("/protected/oauth1"),
            authorization=oauth1, max_attempts=1,
        )  # fmt: skip
        webhook = webhook_save(
            namespace=namespace, name="contacts", path="contacts", connection=connection,
            records_path="data",
            pagination={"type": "page_number", "page_param": "page", "size_param": "per_page",
                        "size": 2, "has_more_path": "more"},
        )  # fmt: skip
        contact = data_type_save(namespace=namespace, name="Contact", schema=CONTACT)
        parse = element_save(model=Translator, namespace=namespace, name="parse", type="import",
                             style="mapping", target_data_type=contact)  # fmt: skip
        return element_save(model=Flow, namespace=namespace, name="import_contacts",
                            translator=parse, webhook=webhook, max_attempts=1)  # fmt: skip

    return build


def _run(flow):
    task = flow_enqueue(flow=flow)
    task_run(task.pk)
    task.refresh_from_db()
    return task


def test_a_full_import_through_an_oauth1_connection(import_flow, remote):
    task = _run(import_flow())
    assert task.status == "completed", task.executions.get().error
    assert task.result["pages"] == 3 and task.result["created"] == 5
    stored = sorted(Record.objects.values_list("data", flat=True), key=lambda d: d["id"])
    assert stored == remote.contacts
    logs = list(RequestLog.objects.order_by("created_at", "id"))
    assert [log.status for log in logs] == [200, 200, 200]
    assert all(log.request_headers["Authorization"] == "[REDACTED]" for log in logs)
    text = json.dumps([log.request_headers for log in logs]) + "".join(log.url for log in logs)
    c = remote.credentials
    assert c.consumer_secret not in text and c.oauth_token_secret not in text


def test_a_refused_signature_is_a_readable_failure_in_the_log(import_flow, remote):
    task = _run(import_flow(consumer_secret="not-the-secret"))
    assert task.status == "failed"
    error = task.executions.get().error
    assert "answered HTTP 401" in error and "invalid OAuth 1.0a signature" in error
    [log] = RequestLog.objects.all()
    assert log.status == 401 and "invalid OAuth 1.0a signature" in log.response_body
    assert "not-the-secret" not in json.dumps(log.request_headers) + error
