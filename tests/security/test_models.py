"""Validation of authorizations per kind, and the save services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.security import services


@pytest.mark.parametrize(
    ("kind", "fields", "missing"),
    [
        ("basic", {"username": "u"}, {"password"}),
        ("basic", {}, {"username", "password"}),
        ("bearer", {}, {"token"}),
        ("api_key", {"key_value": "k"}, {"key_name"}),
        ("oauth1", {"consumer_key": "c"}, {"consumer_secret"}),
        ("oauth2", {}, {"client"}),
    ],
)
def test_required_fields_per_kind(namespace, kind, fields, missing):
    with pytest.raises(ValidationError) as error:
        services.authorization_save(namespace=namespace, name="a", kind=kind, **fields)
    assert set(error.value.message_dict) == missing
    assert "authorization needs" in " ".join(error.value.messages)


def test_oauth1_token_needs_its_secret(namespace):
    with pytest.raises(ValidationError) as error:
        services.authorization_save(
            namespace=namespace, name="a", kind="oauth1",
            consumer_key="c", consumer_secret="s", oauth_token="t",
        )  # fmt: skip
    assert "oauth_token_secret" in error.value.message_dict


def test_refresh_token_grant_needs_a_refresh_token(namespace, oauth_client):
    with pytest.raises(ValidationError) as error:
        services.authorization_save(
            namespace=namespace, name="a", kind="oauth2", client=oauth_client,
            grant_type="refresh_token",
        )  # fmt: skip
    assert "refresh_token" in error.value.message_dict


def test_code_grant_needs_an_authorize_url(namespace, oauth_client, provider):
    provider.authorize_url = ""
    provider.save()
    with pytest.raises(ValidationError) as error:
        services.authorization_save(
            namespace=namespace, name="a", kind="oauth2", client=oauth_client,
            grant_type="authorization_code",
        )  # fmt: skip
    assert "authorize URL" in error.value.message_dict["grant_type"][0]


def test_names_are_unique_within_a_namespace(namespace):
    services.authorization_save(namespace=namespace, name="a", kind="none")
    with pytest.raises(ValidationError):
        services.authorization_save(namespace=namespace, name="a", kind="none")


def test_token_urls_are_http_only(namespace):
    with pytest.raises(ValidationError) as error:
        services.authorization_provider_save(
            namespace=namespace, name="p", token_url="ftp://example.com/token"
        )
    assert "token_url" in error.value.message_dict


def test_secrets_left_out_are_kept(namespace):
    authorization = services.authorization_save(
        namespace=namespace, name="a", kind="basic", username="u", password="pw-1234"
    )
    services.authorization_save(
        instance=authorization, namespace=namespace, name="a", kind="basic", username="v",
        password=None,
    )  # fmt: skip
    authorization.refresh_from_db()
    assert (authorization.username, authorization.password) == ("v", "pw-1234")


def test_changing_the_scopes_forgets_the_tokens(namespace, oauth_client):
    authorization = services.authorization_save(
        namespace=namespace, name="a", kind="oauth2", client=oauth_client,
        grant_type="client_credentials", access_token="tok-1234", scopes="a",
    )  # fmt: skip
    services.authorization_save(
        instance=authorization, namespace=namespace, name="a", kind="oauth2", scopes="a b"
    )
    authorization.refresh_from_db()
    assert authorization.access_token == "" and not authorization.authorized


def test_unknown_fields_are_refused(namespace):
    with pytest.raises(TypeError):
        services.authorization_save(namespace=namespace, name="a", kind="none", colour="red")
