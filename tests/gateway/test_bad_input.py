"""Gateway elements refuse what would make every call fail; calls say what is missing."""

import pytest

from apps.gateway.client import GatewayError, webhook_fetch
from apps.gateway.models import Connection, Webhook
from apps.gateway.services import connection_save, webhook_save
from tests.workflows.systems import SystemA


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("connection", "headers", {"X-Trial": 5}),
    ("connection", "parameters", {"page": {"a": 1}}),
    ("webhook", "headers", {"X-Trial": True}),
    ("webhook", "parameters", {"ids": [1, 2]}),
])  # fmt: skip
def test_headers_and_parameters_must_be_text(api, namespace, kind, field, value):
    body = {"namespace": "crm", "name": "x", field: value}
    if kind == "connection":
        body["base_url"] = "https://api.example.com"
    else:
        body["path"] = "items"
    response = api.post(f"/api/v2/setup/{kind}/", body, format="json")
    assert response.status_code == 400, response.content
    assert "must be a string" in str(response.json()[field])
    assert not Connection.objects.exists() and not Webhook.objects.exists()


def test_repeated_parameters_may_be_lists_of_text(namespace):
    webhook_save(namespace=namespace, name="w", path="items", parameters={"id": ["1", "2"]})


@pytest.mark.parametrize(("field", "value"), [
    ("path", "contacts/{{unclosed"),
    ("body_template", '{"a": {{ x }'),
    ("headers", {"X-Id": "{{ id"}),
])  # fmt: skip
def test_unclosed_placeholders_are_refused_on_save(api, namespace, field, value):
    body = {"namespace": "crm", "name": "w", "path": "items", field: value}
    response = api.post("/api/v2/setup/webhook/", body, format="json")
    assert response.status_code == 400 and "not a valid template" in str(response.json()[field])


def test_a_path_placeholder_without_a_value_is_an_error_not_an_empty_segment(namespace):
    server = SystemA([]).start()
    try:
        connection = connection_save(namespace=namespace, name="a", base_url=server.url)
        webhook = webhook_save(
            namespace=namespace, name="item", path="items/{{item_id}}", connection=connection
        )
        for values in ({}, {"item_id": ""}, {"item_id": None}):
            with pytest.raises(GatewayError, match=r"placeholder 'item_id' .* has no value"):
                list(webhook_fetch(webhook=webhook, template_values=values))
        assert server.requests == []  # nothing was called
    finally:
        server.stop()


@pytest.mark.parametrize("timeout", ["nan", "inf", "-inf", 0, 1e9])
def test_timeouts_are_finite_and_bounded(api, namespace, timeout):
    body = {"namespace": "crm", "name": "c", "base_url": "https://x.example",
            "read_timeout": timeout}  # fmt: skip
    response = api.post("/api/v2/setup/connection/", body, format="json")
    assert response.status_code == 400 and "read_timeout" in response.json()


def test_nan_is_not_json(api, namespace):
    body = '{"namespace": "crm", "name": "c", "base_url": "https://x.example", "read_timeout": NaN}'
    response = api.generic("POST", "/api/v2/setup/connection/", body,
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 400 and "NaN is not JSON" in response.json()["detail"]
