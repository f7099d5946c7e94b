"""Each kind of authorization applied to real requests against a local server."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from apps.security import services
from apps.security.models import Authorization, AuthorizationProvider

from .test_crypto import raw_column


def get(remote, path: str, authorization) -> requests.Response:
    return requests.get(
        remote.url(path), auth=services.authorization_auth(authorization), timeout=10
    )


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("basic", "/protected/basic"),
        ("bearer", "/protected/bearer"),
        ("oauth1", "/protected/oauth1"),
    ],
)
def test_kind_is_accepted_by_the_server(remote, make_authorization, kind, path):
    response = get(remote, path, make_authorization(kind))
    assert response.status_code == 200, response.text


def test_wrong_credentials_are_refused_by_the_server(remote, make_authorization):
    # The server really checks: the tests above are not passing by accident.
    for kind, path, wrong in [
        ("basic", "/protected/basic", {"password": "wrong"}),
        ("bearer", "/protected/bearer", {"token": "wrong"}),
        ("api_key", "/protected/api-key-header", {"key_value": "wrong"}),
        ("oauth1", "/protected/oauth1", {"consumer_secret": "wrong"}),
    ]:
        assert get(remote, path, make_authorization(kind, **wrong)).status_code == 401, kind


def test_bearer_uses_the_header_prefix(remote, make_authorization):
    authorization = make_authorization("bearer", header_prefix="Zoho-oauthtoken")
    request = requests.Request("GET", remote.url("/protected/bearer"))
    prepared = services.authorization_auth(authorization)(request.prepare())
    assert prepared.headers["Authorization"] == f"Zoho-oauthtoken {remote.credentials.bearer_token}"
    assert get(remote, "/protected/bearer", authorization).status_code == 200


def test_api_key_in_header(remote, make_authorization):
    response = get(remote, "/protected/api-key-header", make_authorization("api_key"))
    assert response.status_code == 200


def test_api_key_in_query_keeps_the_other_parameters(remote, make_authorization):
    authorization = make_authorization("api_key", key_in="query")
    response = requests.get(
        remote.url("/protected/api-key-query"),
        params={"page": "2"},
        auth=services.authorization_auth(authorization),
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["query"] == {"page": "2", "X-Api-Key": remote.credentials.key_value}


def test_oauth1_two_legged_signature(remote, make_authorization):
    authorization = make_authorization("oauth1", oauth_token="", oauth_token_secret="")
    request = services.authorization_auth(authorization)(
        requests.Request("GET", remote.url("/protected/oauth1?x=1")).prepare()
    )
    header = request.headers["Authorization"].decode()
    assert 'oauth_signature_method="HMAC-SHA1"' in header
    assert "oauth_token=" not in header
    assert get(remote, "/protected/oauth1?x=1", authorization).status_code == 200


def test_none_sends_nothing(make_authorization):
    assert services.authorization_auth(make_authorization("none")) is None
    assert services.authorization_auth(None) is None


# --- OAuth 2.0 ------------------------------------------------------------------------


def test_client_credentials_token_is_fetched_stored_encrypted_and_used(remote, make_authorization):
    authorization = make_authorization("oauth2", scopes="read, write")
    response = get(remote, "/protected/oauth2", authorization)
    assert response.status_code == 200
    [token_request] = remote.token_requests
    assert token_request["grant_type"] == "client_credentials"
    assert token_request["scope"] == "read write"
    assert token_request["client_auth"] == "body"
    stored = Authorization.objects.get(pk=authorization.pk)
    assert stored.access_token in remote.access_tokens
    assert stored.authorized and stored.expires_at > timezone.now()
    assert stored.access_token not in raw_column(Authorization, stored.pk, "access_token")
    # A valid token is reused, not fetched again.
    get(remote, "/protected/oauth2", stored)
    assert len(remote.token_requests) == 1


def test_scope_separator_and_basic_client_authentication(remote, make_authorization, provider):
    services.authorization_provider_save(
        instance=provider,
        namespace=provider.namespace,
        name=provider.name,
        token_url=provider.token_url,
        scope_separator=",",
        client_authentication="basic",
    )
    authorization = make_authorization("oauth2", scopes="a b")
    assert get(remote, "/protected/oauth2", authorization).status_code == 200
    [token_request] = remote.token_requests
    assert token_request["scope"] == "a,b"
    assert token_request["client_auth"] == "basic"
    assert "client_secret" not in token_request


def test_token_request_by_get(remote, make_authorization, provider):
    provider.token_method = "GET"
    provider.save()
    assert get(remote, "/protected/oauth2", make_authorization("oauth2")).status_code == 200
    assert remote.token_requests[0]["http_method"] == "GET"


def test_expired_token_is_refreshed_with_the_refresh_token(remote, make_authorization):
    refresh = remote.new_tokens(with_refresh=True)["refresh_token"]
    authorization = make_authorization(
        "oauth2",
        grant_type="authorization_code",
        access_token="expired-token",
        refresh_token=refresh,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    assert get(remote, "/protected/oauth2", authorization).status_code == 200
    [token_request] = remote.token_requests
    assert token_request["grant_type"] == "refresh_token"
    assert token_request["refresh_token"] == refresh
    stored = Authorization.objects.get(pk=authorization.pk)
    assert stored.refresh_token in remote.refresh_tokens  # the rotated one was kept
    assert stored.refresh_token != refresh


def test_refresh_token_grant_without_access_token(remote, make_authorization):
    refresh = remote.new_tokens(with_refresh=True)["refresh_token"]
    authorization = make_authorization("oauth2", grant_type="refresh_token", refresh_token=refresh)
    assert get(remote, "/protected/oauth2", authorization).status_code == 200


def test_refresh_after_401_obtains_a_new_token(remote, make_authorization):
    authorization = make_authorization("oauth2")
    auth = services.authorization_auth(authorization)
    first = authorization.access_token
    remote.revoke_access_tokens()
    response = requests.get(remote.url("/protected/oauth2"), auth=auth, timeout=10)
    assert response.status_code == 401
    # What the gateway's HTTP client does once after a 401:
    assert services.authorization_refresh(authorization) is True
    response = requests.get(remote.url("/protected/oauth2"), auth=auth, timeout=10)
    assert response.status_code == 200
    assert authorization.access_token != first
    assert Authorization.objects.get(pk=authorization.pk).access_token == authorization.access_token


def test_refresh_adopts_a_token_another_process_stored(remote, make_authorization):
    authorization = make_authorization("oauth2")
    services.authorization_auth(authorization)
    other_process = Authorization.objects.get(pk=authorization.pk)
    remote.revoke_access_tokens()
    assert services.authorization_refresh(other_process) is True
    assert services.authorization_refresh(authorization) is True
    assert authorization.access_token == other_process.access_token
    assert len(remote.token_requests) == 2  # the first fetch and one refresh, not two


def test_refresh_is_impossible(remote, make_authorization, provider):
    assert services.authorization_refresh(make_authorization("bearer")) is False
    code_grant = make_authorization(
        "oauth2", name="code", grant_type="authorization_code", access_token="t"
    )
    assert services.authorization_refresh(code_grant) is False
    provider.refresh_token_strategy = AuthorizationProvider.RefreshStrategy.NONE
    provider.save()
    assert services.authorization_refresh(make_authorization("oauth2", name="cc")) is False


def test_not_yet_authorized_code_grant_says_what_to_do(make_authorization):
    authorization = make_authorization("oauth2", grant_type="authorization_code")
    with pytest.raises(services.AuthorizationError) as error:
        services.authorization_auth(authorization)
    assert error.value.code == "not_authorized"
    assert "Authorize" in str(error.value)


def test_token_endpoint_error_names_url_and_status_but_no_secret(remote, make_authorization):
    authorization = make_authorization("oauth2")
    authorization.client.client_secret = "a-wrong-Secret-value"
    with pytest.raises(services.AuthorizationError) as error:
        services.authorization_auth(authorization)
    message = str(error.value)
    assert remote.url("/oauth/token") in message
    assert "401" in message and "invalid_client" in message
    assert "a-wrong-Secret-value" not in message
    assert error.value.code == "token_endpoint_error"


def test_unreachable_token_endpoint(make_authorization, provider):
    provider.token_url = "http://127.0.0.1:9/oauth/token"  # the discard port: nothing listens
    provider.save()
    with pytest.raises(services.AuthorizationError) as error:
        services.authorization_auth(make_authorization("oauth2"))
    assert error.value.code == "token_request_failed"
    assert "http://127.0.0.1:9/oauth/token" in str(error.value)


def test_secret_values(make_authorization, remote):
    basic = make_authorization("basic")
    assert remote.credentials.password in services.secret_values(basic)
    oauth2 = make_authorization("oauth2")
    services.authorization_auth(oauth2)
    assert {remote.credentials.client_secret, oauth2.access_token} <= services.secret_values(oauth2)
    assert "" not in services.secret_values(make_authorization("none"))


def test_token_endpoint_on_a_private_address_is_refused_when_denied(settings, namespace):
    from apps.security.exceptions import AuthorizationError
    from apps.security.services import (
        authorization_client_save,
        authorization_provider_save,
        authorization_refresh,
        authorization_save,
    )

    settings.GATEWAY_DENY_PRIVATE_ADDRESSES = True
    provider = authorization_provider_save(
        namespace=namespace, name="internal", token_url="http://127.0.0.1:9/token"
    )
    client = authorization_client_save(
        namespace=namespace, name="c", provider=provider, client_id="id", client_secret="shh"
    )
    authorization = authorization_save(
        namespace=namespace, name="a", kind="oauth2", client=client,
        grant_type="client_credentials",
    )  # fmt: skip
    with pytest.raises(AuthorizationError) as raised:
        authorization_refresh(authorization)
    assert raised.value.code == "denied_destination"
    assert "127.0.0.1" in str(raised.value) and "shh" not in str(raised.value)
