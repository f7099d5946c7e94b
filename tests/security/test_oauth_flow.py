"""The authorization-code flow: the admin's Authorize button and the callback view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from apps.security.models import Authorization

CALLBACK = "/security/oauth/callback/"


@pytest.fixture
def code_grant(make_authorization) -> Authorization:
    return make_authorization("oauth2", grant_type="authorization_code", scopes="read write")


def authorize(client, authorization) -> dict[str, str]:
    """Press Authorize; return the parameters of the provider URL it redirects to."""
    response = client.post(f"/admin/security/authorization/{authorization.pk}/authorize/")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    return {k: v[0] for k, v in parse_qs(url.query).items()} | {"path": url.path}


def test_authorize_and_callback_store_the_tokens(client, admin_user, remote, code_grant):
    client.force_login(admin_user)
    params = authorize(client, code_grant)
    assert params["path"] == "/oauth/authorize"
    assert params["client_id"] == remote.credentials.client_id
    assert params["response_type"] == "code"
    assert params["scope"] == "read write"
    assert params["redirect_uri"] == f"http://testserver{CALLBACK}"
    assert len(params["state"]) >= 32
    code = remote.issue_code(params["redirect_uri"])

    response = client.get(CALLBACK, {"code": code, "state": params["state"]}, follow=True)
    assert (
        response.redirect_chain[-1][0] == f"/admin/security/authorization/{code_grant.pk}/change/"
    )
    assert "is authorized" in response.content.decode()
    code_grant.refresh_from_db()
    assert code_grant.authorized
    assert code_grant.access_token in remote.access_tokens
    assert code_grant.refresh_token in remote.refresh_tokens
    assert remote.token_requests[-1]["grant_type"] == "authorization_code"
    assert code_grant.access_token not in response.content.decode()


def test_state_mismatch_is_rejected(client, admin_user, remote, code_grant):
    client.force_login(admin_user)
    params = authorize(client, code_grant)
    code = remote.issue_code(params["redirect_uri"])
    response = client.get(CALLBACK, {"code": code, "state": "forged-state"})
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assert remote.token_requests == []  # the code was not exchanged
    code_grant.refresh_from_db()
    assert not code_grant.authorized


def test_a_state_is_good_once(client, admin_user, remote, code_grant):
    client.force_login(admin_user)
    params = authorize(client, code_grant)
    code = remote.issue_code(params["redirect_uri"])
    assert client.get(CALLBACK, {"code": code, "state": params["state"]}).status_code == 302
    assert client.get(CALLBACK, {"code": code, "state": params["state"]}).status_code == 400


def test_state_from_another_session_is_rejected(
    client, admin_user, remote, code_grant, django_user_model
):
    client.force_login(admin_user)
    params = authorize(client, code_grant)
    client.logout()
    client.force_login(admin_user)  # a new session
    response = client.get(CALLBACK, {"code": "c", "state": params["state"]})
    assert response.status_code == 400


def test_provider_refusal_is_reported(client, admin_user, code_grant):
    client.force_login(admin_user)
    params = authorize(client, code_grant)
    response = client.get(
        CALLBACK, {"error": "access_denied", "state": params["state"]}, follow=True
    )
    assert "did not authorize" in response.content.decode()


def test_bad_code_is_reported_with_the_token_endpoint_answer(client, admin_user, code_grant):
    client.force_login(admin_user)
    params = authorize(client, code_grant)
    response = client.get(CALLBACK, {"code": "wrong", "state": params["state"]}, follow=True)
    html = response.content.decode()
    assert "answered HTTP 400" in html and "invalid_grant" in html


def test_authorize_button_for_client_credentials_fetches_now(
    client, admin_user, remote, make_authorization
):
    authorization = make_authorization("oauth2")
    client.force_login(admin_user)
    html = client.get(f"/admin/security/authorization/{authorization.pk}/change/").content
    assert b">Authorize</button>" in html
    response = client.post(
        f"/admin/security/authorization/{authorization.pk}/authorize/", follow=True
    )
    assert "Obtained new tokens" in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.access_token in remote.access_tokens


def test_authorize_needs_post_and_change_permission(client, make_user, grant, code_grant):
    user = make_user(is_staff=True)
    grant(user, code_grant.namespace)  # view only
    client.force_login(user)
    url = f"/admin/security/authorization/{code_grant.pk}/authorize/"
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
