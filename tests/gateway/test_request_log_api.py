"""The request log through the API: every attempt of the calls of namespaces you can
see, filtered by webhook, connection, status and failure, secrets never shown."""

from __future__ import annotations

import pytest

from apps.data.services import namespace_get_or_create
from apps.gateway.client import webhook_fetch
from apps.gateway.services import connection_save, webhook_save

pytestmark = pytest.mark.django_db

URL = "/api/v2/setup/request_log/"


def test_the_attempts_of_a_call_are_listed_and_filtered(
    api, api_as, make_user, grant, namespace, make_webhook, remote
):
    remote.fault("/items", {"status": 503})
    webhook = make_webhook()
    list(webhook_fetch(webhook=webhook))
    other = make_webhook(name="other", path="nowhere")
    with pytest.raises(Exception):
        list(webhook_fetch(webhook=other))
    listed = api.get(URL).json()["results"]
    assert [(r["webhook"], r["status"], r["attempt"]) for r in listed] == [
        ("crm.other", 404, 1), ("crm.items", 200, 2), ("crm.items", 503, 1)
    ]  # fmt: skip
    assert listed[1]["url"] == f"{remote.url}/items" and listed[1]["method"] == "GET"
    assert listed[1]["connection"] == "crm.remote" and listed[1]["namespace"] == "crm"
    by_name = api.get(URL + "?webhook=crm.items").json()["results"]
    assert [r["status"] for r in by_name] == [200, 503]
    by_id = api.get(URL + f"?webhook={other.pk}").json()["results"]
    assert [r["status"] for r in by_id] == [404]
    failed = api.get(URL + "?failed=1").json()["results"]
    assert [r["status"] for r in failed] == [404, 503]
    assert [r["status"] for r in api.get(URL + "?status=503").json()["results"]] == [503]
    for bad in ("?status=abc", "?status=42", "?failed=maybe"):
        answer = api.get(URL + bad)
        assert answer.status_code == 400, bad
    assert "HTTP status" in str(api.get(URL + "?status=abc").json())
    # Someone who may not see the namespace sees none of it.
    outsider = make_user("outsider")
    assert api_as(outsider).get(URL).json()["count"] == 0
    grant(outsider, namespace)
    assert api_as(outsider).get(URL).json()["count"] == 3
    assert api.post(URL, {}, format="json").status_code == 405  # read only


def test_secrets_of_a_call_are_not_in_the_log(api, remote):
    from apps.security.services import authorization_save

    namespace = namespace_get_or_create(name="sec")
    auth = authorization_save(
        namespace=namespace, name="key", kind="api_key", key_name="X-Api-Key",
        key_value="canary-1f2e3d", key_in="header",
    )  # fmt: skip
    conn = connection_save(namespace=namespace, name="c", base_url=remote.url, authorization=auth)
    webhook = webhook_save(namespace=namespace, name="w", path="items", connection=conn)
    list(webhook_fetch(webhook=webhook))
    body = api.get(URL + "?webhook=sec.w").content.decode()
    assert "X-Api-Key" in body and "canary-1f2e3d" not in body
