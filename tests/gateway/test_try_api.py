"""Trying a webhook through the API: what the admin's Try page shows, as JSON."""

from __future__ import annotations

import pytest

from apps.data.services import namespace_get_or_create
from apps.gateway.services import connection_save

pytestmark = pytest.mark.django_db


def url(webhook) -> str:
    return f"/api/v2/setup/webhook/{webhook.pk}/try/"


def test_a_try_shows_the_first_page_and_counts_the_rest(api, make_webhook, remote):
    webhook = make_webhook(path="pages", records_path="data",
                           pagination={"type": "page_number", "size": 5})  # fmt: skip
    first = api.post(url(webhook), {}, format="json").json()
    assert first["status"] == 200 and first["error"] == ""
    assert first["records"] == [{"id": i, "name": f"item {i}"} for i in range(1, 6)]
    assert first["stats"]["pages"] == 1
    every = api.post(url(webhook), {"all_pages": True}, format="json").json()
    assert every["stats"]["pages"] == 5 and every["stats"]["records"] == 23
    assert every["records"] == first["records"]  # only the first page is shown


def test_a_failing_call_and_bad_input_say_why(api, api_as, make_user, grant, namespace,
                                              make_webhook, remote):  # fmt: skip
    missing = make_webhook(name="missing", path="nowhere")
    failed = api.post(url(missing), {}, format="json")
    assert failed.status_code == 200 and failed.json()["status"] == 404
    assert failed.json()["url"] == f"{remote.url}/nowhere" and "404" in failed.json()["error"]
    placeholder = make_webhook(name="one", path="items/{{item_id}}")
    blank = api.post(url(placeholder), {}, format="json").json()
    assert "'item_id'" in blank["error"] and "has no value" in blank["error"]
    bad = api.post(url(missing), {"connection": "crm.nope"}, format="json")
    assert bad.status_code == 400 and "no connection crm.nope" in str(bad.json())
    # Someone who may only view the namespace may not call through its connection.
    viewer = make_user("viewer")
    grant(viewer, namespace)
    refused = api_as(viewer).post(url(missing), {}, format="json")
    assert refused.status_code == 400 and "credentials" in str(refused.json())
    outsider = make_user("outsider")
    assert api_as(outsider).post(url(missing), {}, format="json").status_code == 404


def test_a_try_through_another_connection(api, make_webhook, remote):
    other = namespace_get_or_create(name="other")
    connection_save(namespace=other, name="remote", base_url=remote.url)
    webhook = make_webhook(path="items", connection=None)
    answer = api.post(url(webhook), {"connection": "other.remote"}, format="json").json()
    assert answer["status"] == 200 and answer["url"] == f"{remote.url}/items"
