"""Authorizations applied by the client, a 401 refreshing OAuth 2.0 tokens once, and no
secret in the request log."""

from __future__ import annotations

import json

import pytest
from django.forms.models import model_to_dict

from apps.gateway.client import GatewayError, webhook_fetch
from apps.gateway.models import RequestLog
from apps.security.services import authorization_client_save, authorization_provider_save

SECRET = "s3cr3t-value-xyz"


def logged_text() -> str:
    rows = [model_to_dict(row) for row in RequestLog.objects.all()]
    assert rows
    return json.dumps(rows, default=str)


def fetch_all(webhook):
    return [record for page in webhook_fetch(webhook=webhook) for record in page.records]


AUTHS = {
    "basic": ({"username": "ada", "password": SECRET}, ("basic", "ada", SECRET)),
    "bearer": ({"token": SECRET}, ("bearer", SECRET)),
    "api key header": (
        {"key_name": "X-Api-Key", "key_value": SECRET}, ("key", "X-Api-Key", SECRET, "header")
    ),
    "api key query": (
        {"key_name": "apikey", "key_value": SECRET, "key_in": "query"},
        ("key", "apikey", SECRET, "query"),
    ),
    "api key, unusual name": (
        {"key_name": "X-Tenant", "key_value": SECRET}, ("key", "X-Tenant", SECRET, "header")
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", AUTHS)
def test_authorizations_are_applied_and_never_logged(
    case, remote, connection, make_webhook, make_authorization
):
    fields, required = AUTHS[case]
    kind = case.split(" ")[0] if not case.startswith("api key") else "api_key"
    connection.authorization = make_authorization(kind, **fields)
    connection.save()
    remote.require = required
    remote.fault("/items", {"status": 503})  # a failed attempt is logged with its bodies

    assert len(fetch_all(make_webhook())) == 23
    assert RequestLog.objects.count() == 2
    assert SECRET not in logged_text()


def test_wrong_credentials_fail_after_one_request(
    remote, connection, make_webhook, make_authorization
):
    connection.authorization = make_authorization("bearer", token=SECRET)
    connection.save()
    remote.require = ("bearer", "another")
    with pytest.raises(GatewayError) as caught:
        fetch_all(make_webhook())
    assert caught.value.status == 401
    assert len(remote.hits) == 1  # a bearer token cannot be refreshed: no retry
    assert SECRET not in str(caught.value)


@pytest.fixture
def oauth2_authorization(namespace, remote, make_authorization):
    provider = authorization_provider_save(
        namespace=namespace, name="provider", token_url=f"{remote.url}/token"
    )
    client = authorization_client_save(
        namespace=namespace, name="client", provider=provider, client_id="app",
        client_secret=SECRET,
    )  # fmt: skip
    return make_authorization("oauth2", client=client, grant_type="client_credentials")


def test_a_401_refreshes_the_oauth2_token_once_and_retries(
    remote, connection, make_webhook, oauth2_authorization
):
    connection.authorization = oauth2_authorization
    connection.save()
    webhook = make_webhook()
    assert len(fetch_all(webhook)) == 23
    assert remote.issued_tokens == 1  # obtained before the first request

    remote.require = ("bearer", "revoked-meanwhile")
    assert len(fetch_all(webhook)) == 23
    assert remote.issued_tokens == 2
    assert remote.paths("/items") == ["/items"] * 3  # ok; 401, then ok with the new token
    text = logged_text()
    assert "token-1" not in text and "token-2" not in text and SECRET not in text


def test_a_second_401_is_an_error_not_a_loop(
    remote, connection, make_webhook, oauth2_authorization
):
    connection.authorization = oauth2_authorization
    connection.save()
    remote.fault("/items", {"status": 401}, {"status": 401}, {"status": 401})
    with pytest.raises(GatewayError) as caught:
        fetch_all(make_webhook())
    assert caught.value.status == 401
    assert remote.issued_tokens == 2  # the first token, and one refresh
    assert remote.paths("/items") == ["/items"] * 2


def test_echoed_secrets_are_removed_from_logged_bodies(
    remote, connection, make_webhook, make_authorization, settings
):
    settings.GATEWAY_LOG_SUCCESS_BODIES = True
    connection.authorization = make_authorization("api_key", key_name="X-Tenant", key_value=SECRET)
    connection.save()
    webhook = make_webhook(path="echo", method="POST")
    (page,) = webhook_fetch(webhook=webhook, body={"note": f"my key is {SECRET}"})
    assert page.records[0]["headers"]["X-Tenant"] == SECRET  # the server did get it
    row = RequestLog.objects.get()
    assert "X-Tenant" in row.response_body and "[REDACTED]" in row.request_body
    assert SECRET not in logged_text()
