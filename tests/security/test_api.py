"""The setup API of authorizations, clients and providers: secrets are write-only."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from apps.data.models import Namespace
from apps.security import services
from apps.security.models import Authorization

AUTHORIZATIONS = "/api/v2/setup/authorization/"
CLIENTS = "/api/v2/setup/authorization_client/"
PROVIDERS = "/api/v2/setup/authorization_provider/"
SECRETS = ["pw-Secret-1", "tok-Secret-2", "client-Secret-3"]


def assert_no_secret(response) -> None:
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text


def test_full_oauth2_setup_through_the_api(api, namespace):
    response = api.post(
        PROVIDERS,
        {
            "namespace": "crm",
            "name": "p",
            "token_url": "https://example.com/token",
            "authorize_url": "https://example.com/auth",
            "scope_separator": ",",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    response = api.post(
        CLIENTS,
        {
            "namespace": "crm",
            "name": "c",
            "provider": {"namespace": "crm", "name": "p"},
            "client_id": "id-1",
            "client_secret": "client-Secret-3",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["client_secret_set"] is True
    assert_no_secret(response)
    response = api.post(
        AUTHORIZATIONS,
        {
            "namespace": "crm",
            "name": "a",
            "kind": "oauth2",
            "client": {"namespace": "crm", "name": "c"},
            "grant_type": "refresh_token",
            "refresh_token": "tok-Secret-2",
            "header_prefix": "Zoho-oauthtoken",
            "scopes": "a,b",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["client"] == {"namespace": "crm", "name": "c"}
    assert body["refresh_token_set"] is True and body["access_token_set"] is False
    assert_no_secret(response)


def test_basic_secrets_are_write_only_and_kept_on_update(api, namespace):
    response = api.post(
        AUTHORIZATIONS,
        {
            "namespace": "crm",
            "name": "b",
            "kind": "basic",
            "username": "u",
            "password": "pw-Secret-1",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert "password" not in body and body["password_set"] is True
    url = f"{AUTHORIZATIONS}{body['id']}/"
    response = api.patch(url, {"username": "v"}, format="json")
    assert response.status_code == 200
    assert Authorization.objects.get(pk=body["id"]).password == "pw-Secret-1"
    for response in (api.get(url), api.get(AUTHORIZATIONS), api.get(f"{AUTHORIZATIONS}?name=b")):
        assert response.status_code == 200
        assert_no_secret(response)


def test_invalid_kind_fields_are_400_with_field_errors(api, namespace):
    response = api.post(
        AUTHORIZATIONS, {"namespace": "crm", "name": "b", "kind": "bearer"}, format="json"
    )
    assert response.status_code == 400
    assert "token" in response.json()


def test_unknown_reference_is_400(api, namespace):
    response = api.post(
        AUTHORIZATIONS,
        {
            "namespace": "crm",
            "name": "a",
            "kind": "oauth2",
            "client": {"namespace": "crm", "name": "nope"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "crm.nope" in json.dumps(response.json())


def test_namespace_permissions(api_as, make_user, grant, namespace):
    other = Namespace.objects.create(name="other")
    mine = services.authorization_save(namespace=namespace, name="mine", kind="bearer",
                                       token="tok-Secret-2")  # fmt: skip
    hidden = services.authorization_save(namespace=other, name="hidden", kind="bearer",
                                         token="tok-Secret-2")  # fmt: skip
    user = make_user()
    grant(user, namespace)  # view only
    client = api_as(user)
    assert client.get(f"{AUTHORIZATIONS}{hidden.pk}/").status_code == 404
    listed = client.get(AUTHORIZATIONS).json()
    assert [item["name"] for item in listed["results"]] == ["mine"]
    response = client.patch(f"{AUTHORIZATIONS}{mine.pk}/", {"token": "x-1234"}, format="json")
    assert response.status_code == 403
    response = client.post(
        AUTHORIZATIONS, {"namespace": "crm", "name": "new", "kind": "none"}, format="json"
    )
    assert response.status_code == 403
    response = client.post(
        AUTHORIZATIONS, {"namespace": "other", "name": "new", "kind": "none"}, format="json"
    )
    assert response.status_code == 400  # a namespace the user cannot see does not exist for them


def test_listing_does_not_query_per_authorization(api, namespace, django_assert_max_num_queries):
    provider = services.authorization_provider_save(
        namespace=namespace, name="p", token_url="https://example.com/token"
    )
    client = services.authorization_client_save(
        namespace=namespace, name="c", provider=provider, client_id="id"
    )
    for index in range(5):
        services.authorization_save(
            namespace=namespace, name=f"a{index}", kind="oauth2", client=client,
            grant_type="client_credentials",
        )  # fmt: skip
    with django_assert_max_num_queries(6):  # auth token, permissions, count, page
        response = api.get(AUTHORIZATIONS)
    assert response.json()["count"] == 5


@pytest.mark.parametrize("header", ["Bearer {token}", "{token}"], ids=["bearer", "no scheme"])
def test_a_token_sent_as_bearer_or_bare_is_told_how_to_send_it(api, header):
    """The OAuth habit (Authorization: Bearer …), or the token alone, gets the way the
    platform wants its tokens, not a bare 401; the token itself is not echoed."""
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(token=token))
    response = client.get("/api/v2/setup/namespace/")
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "Authorization: Token <token>" in detail and token not in detail
