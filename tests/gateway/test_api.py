"""The setup API of connections, connection roles and webhooks."""

from __future__ import annotations

import json

import pytest

from apps.data.models import Namespace
from apps.gateway.models import Connection, Webhook

SECRET = "s3cr3t-bearer-token"
REF = {"namespace": "crm", "name": "default_authorization"}


@pytest.fixture
def authorization(make_authorization):
    return make_authorization("bearer", name="default_authorization", token=SECRET)


@pytest.fixture
def created(api, namespace, authorization):
    connection = api.post(
        "/api/v2/setup/connection/",
        {"namespace": "crm", "name": "default_connection", "base_url": "https://api.example.com/v2",
         "headers": {"Accept": "application/json"}, "authorization": REF},
        format="json",
    )  # fmt: skip
    assert connection.status_code == 201, connection.json()
    webhook = api.post(
        "/api/v2/setup/webhook/",
        {"namespace": "crm", "name": "get_contacts", "path": "contacts", "records_path": "data",
         "pagination": {"type": "page_number", "size_param": "per_page", "size": 200},
         "connection": {"namespace": "crm", "name": "default_connection"}},
        format="json",
    )  # fmt: skip
    assert webhook.status_code == 201, webhook.json()
    return connection.json(), webhook.json()


def test_create_and_read_with_references(api, created):
    connection, webhook = created
    assert connection["authorization"] == REF
    assert connection["max_attempts"] == 4
    assert webhook["connection"] == {"namespace": "crm", "name": "default_connection"}
    listed = api.get("/api/v2/setup/webhook/?namespace=crm&name=get_contacts").json()
    assert [item["id"] for item in listed["results"]] == [webhook["id"]]


def test_secrets_never_appear(api, created):
    for kind in ("connection", "webhook", "connection_role"):
        response = api.get(f"/api/v2/setup/{kind}/")
        assert response.status_code == 200
        assert SECRET not in response.content.decode()


def test_connection_role_refers_to_both(api, created):
    role = api.post(
        "/api/v2/setup/connection_role/",
        {"namespace": "crm", "name": "crm_role",
         "connections": [{"namespace": "crm", "name": "default_connection"}],
         "webhooks": [{"namespace": "crm", "name": "get_contacts"}]},
        format="json",
    )  # fmt: skip
    assert role.status_code == 201, role.json()
    assert role.json()["webhooks"] == [{"namespace": "crm", "name": "get_contacts"}]
    changed = api.patch(
        f"/api/v2/setup/connection_role/{role.json()['id']}/", {"webhooks": []}, format="json"
    )
    assert changed.json()["webhooks"] == []
    assert changed.json()["connections"] == [{"namespace": "crm", "name": "default_connection"}]


def test_invalid_input_is_400_with_field_errors(api, created):
    _, webhook = created
    response = api.patch(
        f"/api/v2/setup/webhook/{webhook['id']}/",
        {"pagination": {"type": "offset", "size": 3}, "path": "/contacts"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert "'size' is not an option of type 'offset'" in json.dumps(errors["pagination"])
    assert "path" in errors
    response = api.post(
        "/api/v2/setup/connection/",
        {"namespace": "crm", "name": "x", "base_url": "ftp://example.com",
         "authorization": {"namespace": "crm", "name": "missing"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert set(response.json()) == {"base_url", "authorization"}
    assert "no authorization crm.missing" in response.json()["authorization"][0]


def test_other_namespaces_are_invisible(api_as, make_user, grant, created):
    connection, webhook = created
    other = Namespace.objects.create(name="other")
    user = make_user("bob")
    grant(user, other, change=True)
    client = api_as(user)
    assert client.get(f"/api/v2/setup/connection/{connection['id']}/").status_code == 404
    assert client.get(f"/api/v2/setup/webhook/{webhook['id']}/").status_code == 404
    assert client.get("/api/v2/setup/webhook/").json()["results"] == []
    # Nor can they be referred to from a namespace the user may change.
    response = client.post(
        "/api/v2/setup/webhook/",
        {"namespace": "other", "name": "w", "connection": {"namespace": "crm",
                                                          "name": "default_connection"}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and "connection" in response.json()


def test_viewers_cannot_write(api_as, make_user, grant, namespace, created):
    _, webhook = created
    user = make_user("carol")
    grant(user, namespace)
    client = api_as(user)
    assert client.get(f"/api/v2/setup/webhook/{webhook['id']}/").status_code == 200
    assert (
        client.patch(
            f"/api/v2/setup/webhook/{webhook['id']}/", {"path": "x"}, format="json"
        ).status_code
        == 403
    )


def test_a_connection_a_webhook_uses_is_not_deleted_behind_its_back(
    api, admin_user, client, make_webhook, connection
):
    """DELETE of a connection answered 204 and left its webhooks without one."""
    webhook = make_webhook("get_items")
    response = api.delete(f"/api/v2/setup/connection/{connection.pk}/")
    assert response.status_code == 409, response.content
    assert "crm.get_items" in response.json()["detail"]
    webhook.refresh_from_db()
    assert webhook.connection_id == connection.pk
    # the admin's delete page says the same and deletes nothing
    client.force_login(admin_user)
    page = client.get(f"/admin/gateway/connection/{connection.pk}/delete/")
    assert "crm.get_items" in page.content.decode()
    client.post(f"/admin/gateway/connection/{connection.pk}/delete/", {"post": "yes"})
    assert Connection.objects.filter(pk=connection.pk).exists()
    # once the webhook uses another connection (or none), the delete goes through
    Webhook.objects.filter(pk=webhook.pk).update(connection=None)
    assert api.delete(f"/api/v2/setup/connection/{connection.pk}/").status_code == 204


@pytest.mark.parametrize(
    ("field", "values"),
    [("headers", {"X-Token": "TOPSECRETH"}), ("headers", {"Authorization": "Bearer TOPSECRETH"}),
     ("parameters", {"api_key": "TOPSECRETH"}), ("parameters", {"access_token": "TOPSECRETH"})],
)  # fmt: skip
def test_a_credential_in_headers_or_parameters_is_refused(api, namespace, field, values):
    """Headers and parameters are shown and exported in plain text: no place for a secret."""
    response = api.post(
        "/api/v2/setup/connection/",
        {"namespace": "crm", "name": "leaky", "base_url": "https://api.example.com",
         field: values},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400, response.content
    message = str(response.json()[field])
    assert "looks like a credential" in message and "authorization" in message
    assert "TOPSECRETH" not in response.content.decode()
    assert not Connection.objects.filter(name="leaky").exists()
    fine = api.post(
        "/api/v2/setup/connection/",
        {"namespace": "crm", "name": "fine", "base_url": "https://api.example.com",
         field: {"Accept": "application/json"}},
        format="json",
    )  # fmt: skip
    assert fine.status_code == 201, fine.content
