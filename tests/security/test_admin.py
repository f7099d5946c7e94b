"""The admin of authorizations: write-only secrets and namespace permissions."""

from __future__ import annotations

import pytest

from apps.data.models import Namespace
from apps.security import services
from apps.security.models import Authorization

SECRET = "pw-Secret-in-admin"


@pytest.fixture
def basic(namespace) -> Authorization:
    return services.authorization_save(
        namespace=namespace, name="basic", kind="basic", username="u", password=SECRET
    )


def change_url(authorization) -> str:
    return f"/admin/security/authorization/{authorization.pk}/change/"


def form_data(authorization, **changes) -> dict:
    """What the change form posts: every field, secrets left empty."""
    data = {
        "namespace": authorization.namespace_id, "name": authorization.name,
        "kind": authorization.kind, "username": authorization.username, "password": "",
        "token": "", "header_prefix": "Bearer", "key_name": "", "key_value": "",
        "key_in": "header", "consumer_key": "", "consumer_secret": "", "oauth_token": "",
        "oauth_token_secret": "", "signature_method": "HMAC-SHA1", "client": "",
        "grant_type": "authorization_code", "scopes": "", "access_token": "",
        "refresh_token": "",
    }  # fmt: skip
    return {**data, **changes}


def test_change_page_never_shows_the_secret(client, admin_user, basic):
    client.force_login(admin_user)
    html = client.get(change_url(basic)).content.decode()
    assert SECRET not in html
    assert "Currently set" in html
    assert 'type="password"' in html


def test_empty_secret_keeps_the_stored_one_and_a_new_one_replaces_it(client, admin_user, basic):
    client.force_login(admin_user)
    response = client.post(change_url(basic), form_data(basic, username="v"))
    assert response.status_code == 302, response.content.decode()[:2000]
    basic.refresh_from_db()
    assert (basic.username, basic.password) == ("v", SECRET)
    client.post(change_url(basic), form_data(basic, password="new-Secret-1"))
    basic.refresh_from_db()
    assert basic.password == "new-Secret-1"


def test_kind_errors_are_shown_on_the_form(client, admin_user, basic):
    client.force_login(admin_user)
    response = client.post(change_url(basic), form_data(basic, kind="bearer"))
    assert response.status_code == 200
    assert "needs a token" in response.content.decode()


def test_view_only_user_sees_set_not_the_value(client, make_user, grant, basic):
    user = make_user(is_staff=True)
    grant(user, basic.namespace)
    client.force_login(user)
    response = client.get(change_url(basic))
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET not in html
    assert "not set" in html and ">set<" in html.replace(" ", "")
    assert client.post(change_url(basic), form_data(basic)).status_code == 403


def test_user_without_permission_cannot_see_the_namespace(client, make_user, grant, basic):
    other = Namespace.objects.create(name="other")
    visible = services.authorization_save(namespace=other, name="visible", kind="none")
    user = make_user(is_staff=True)
    grant(user, other, change=True)
    client.force_login(user)
    listing = client.get("/admin/security/authorization/").content.decode()
    assert "other.visible" in listing and "crm.basic" not in listing
    response = client.get(change_url(basic))
    assert response.status_code == 302  # "does not exist", like any unknown id
    assert SECRET not in client.get(change_url(basic), follow=True).content.decode()
    add_form = client.get("/admin/security/authorization/add/").content.decode()
    assert ">other</option>" in add_form  # namespaces offered: those the user may change
    assert ">crm</option>" not in add_form
    assert client.get(change_url(visible)).status_code == 200


def test_user_without_any_namespace_sees_no_security_admin(client, make_user, basic):
    client.force_login(make_user(is_staff=True))
    assert client.get("/admin/security/authorization/").status_code == 403
    assert "/admin/security/" not in client.get("/admin/").content.decode()
