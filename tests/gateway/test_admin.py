"""The admin pages of the gateway, and the webhook's "Try" page."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from apps.gateway.models import RequestLog

SECRET = "s3cr3t-bearer-token"


@pytest.fixture
def webhook(make_webhook, connection, make_authorization, remote):
    connection.authorization = make_authorization("bearer", token=SECRET)
    connection.save()
    remote.require = ("bearer", SECRET)
    return make_webhook(
        path="pages",
        records_path="data",
        pagination={"type": "page_number", "has_more_path": "info.more"},
    )


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def try_url(webhook) -> str:
    return f"/admin/gateway/webhook/{webhook.pk}/try/"


def post_try(client, webhook, **data):
    page = client.get(try_url(webhook))
    token = page.context["csrf_token"]
    return client.post(try_url(webhook), {"csrfmiddlewaretoken": str(token), **data})


def test_change_page_has_a_try_button(admin_client, webhook):
    page = admin_client.get(f"/admin/gateway/webhook/{webhook.pk}/change/")
    assert page.status_code == 200
    assert try_url(webhook) in page.content.decode()


def test_try_shows_the_first_page_and_the_counts(admin_client, webhook, remote):
    page = admin_client.get(try_url(webhook))
    assert page.status_code == 200 and b"Placeholder values" in page.content
    result = post_try(admin_client, webhook, all_pages="on", template_values="{}", parameters="{}")
    html = result.content.decode()
    assert result.status_code == 200
    assert "HTTP 200 from" in html
    assert "5 page(s), 23 record(s)" in html
    assert "&quot;name&quot;: &quot;item 5&quot;" in html  # first page, pretty JSON
    assert "item 6" not in html
    assert SECRET not in html


def test_try_shows_errors(admin_client, webhook, remote):
    remote.fault("/pages", {"status": 404, "body": "no such page"}, {})
    html = post_try(admin_client, webhook, template_values="{}", parameters="{}").content.decode()
    assert 'id="try-error"' in html and "HTTP 404" in html and "no such page" in html


def test_try_is_csrf_protected(admin_client, webhook, remote):
    assert admin_client.post(try_url(webhook), {"all_pages": "on"}).status_code == 403
    assert remote.hits == []


def test_try_needs_view_permission_on_the_namespace(make_user, grant, webhook, remote):
    from apps.data.models import Namespace

    user = make_user("dave", is_staff=True)
    grant(user, Namespace.objects.create(name="elsewhere"))
    client = Client()
    client.force_login(user)
    assert client.get(try_url(webhook)).status_code == 404
    assert client.post(try_url(webhook), {}).status_code in (403, 404)
    assert remote.hits == []
    grant(user, webhook.namespace)
    assert client.get(try_url(webhook)).status_code == 200


def test_request_log_pages_hide_secrets(admin_client, webhook):
    post_try(admin_client, webhook, all_pages="on", template_values="{}", parameters="{}")
    log = RequestLog.objects.first()
    listing = admin_client.get("/admin/gateway/requestlog/")
    detail = admin_client.get(f"/admin/gateway/requestlog/{log.pk}/change/")
    assert listing.status_code == 200 and detail.status_code == 200
    assert "/pages?page=1" in listing.content.decode()
    for page in (listing, detail):
        assert SECRET not in page.content.decode()
    assert admin_client.get("/admin/gateway/requestlog/add/").status_code == 403


def test_changelists_render(admin_client, webhook):
    for model in ("connection", "connectionrole", "webhook"):
        assert admin_client.get(f"/admin/gateway/{model}/").status_code == 200
        assert admin_client.get(f"/admin/gateway/{model}/add/").status_code == 200


def test_try_reads_at_most_fifty_pages(admin_client, webhook, remote):
    remote.records = [{"id": i, "name": f"item {i}"} for i in range(1, 5 * 60 + 1)]  # 60 pages
    html = post_try(
        admin_client, webhook, all_pages="on", template_values="{}", parameters="{}"
    ).content.decode()
    assert "50 page(s), 250 record(s)" in html and "has more pages" in html


def test_a_try_holds_the_web_worker_no_longer_than_sync_wait_seconds(
    admin_client, webhook, remote, settings
):
    """A slow remote (3 s an answer) and retries: the try stops at SYNC_WAIT_SECONDS."""
    settings.SYNC_WAIT_SECONDS = 1
    webhook.connection.max_attempts = 5
    webhook.connection.save()
    remote.fault("/pages", {"delay": 3}, {"delay": 3}, {"delay": 3})
    started = time.monotonic()
    html = post_try(admin_client, webhook, all_pages="on", template_values="{}",
                    parameters="{}").content.decode()  # fmt: skip
    assert time.monotonic() - started < 2.5
    assert 'id="try-error"' in html and "timed out waiting for the answer" in html


def test_a_try_of_many_slow_pages_stops_at_sync_wait_seconds(
    admin_client, webhook, remote, settings
):
    settings.SYNC_WAIT_SECONDS = 1
    remote.fault("/pages", *[{"delay": 0.3}] * 20)
    started = time.monotonic()
    html = post_try(admin_client, webhook, all_pages="on", template_values="{}",
                    parameters="{}").content.decode()  # fmt: skip
    assert time.monotonic() - started < 2.5
    assert "HTTP 200 from" in html and "has more pages" in html and "at most 1 s" in html
