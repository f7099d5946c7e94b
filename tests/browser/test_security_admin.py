"""The authorization form in a real browser: only the chosen kind's fields show."""

import pytest

from apps.security.models import Authorization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_authorization_form_follows_the_kind(admin_page, live_server, namespace):
    page = admin_page
    page.goto(f"{live_server.url}/admin/security/authorization/add/")
    page.select_option("#id_kind", "api_key")
    assert page.is_visible("#id_key_name") and not page.is_visible("#id_username")
    assert not page.is_visible("#id_consumer_key") and not page.is_visible("#id_client")
    page.select_option("#id_kind", "basic")
    assert page.is_visible("#id_username") and not page.is_visible("#id_key_name")
    page.select_option("#id_namespace", label="crm")
    page.fill("#id_name", "shop_login")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "pa55-word")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    saved = Authorization.objects.get(name="shop_login")
    assert (saved.kind, saved.username, saved.password) == ("basic", "ann", "pa55-word")
    page.goto(f"{live_server.url}/admin/security/authorization/{saved.pk}/change/")
    assert "pa55-word" not in page.content()
