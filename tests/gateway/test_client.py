"""The HTTP client: URLs and merging, retries, Retry-After, timeouts, errors, destinations."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from apps.gateway.client import GatewayError, webhook_fetch, webhook_submit
from apps.gateway.models import Connection, RequestLog
from apps.gateway.retries import retry_after_seconds, retry_delay
from apps.gateway.services import connection_save


def echo(webhook, **kwargs) -> dict:
    (page,) = webhook_fetch(webhook=webhook, **kwargs)
    return page.records[0]


def test_url_parameters_and_headers_are_merged_and_rendered(make_webhook, connection):
    connection.parameters = {"a": "1", "b": "connection"}
    connection.headers = {"X-One": "connection", "X-Two": "connection"}
    connection.template_parameters = {"tenant": "acme", "x": "from-connection"}
    connection.save()
    webhook = make_webhook(
        path="echo/{{tenant}}/{{remote_id}}",
        parameters={"b": "webhook", "c": "{{x}}"},
        headers={"X-Two": "webhook"},
    )
    seen = echo(webhook, template_values={"remote_id": 42, "x": "call"}, parameters={"d": "4"})
    assert seen["path"] == "/echo/acme/42?a=1&b=webhook&c=call&d=4"
    assert seen["headers"]["X-One"] == "connection"
    assert seen["headers"]["X-Two"] == "webhook"


def test_a_missing_placeholder_is_named(make_webhook, remote):
    webhook = make_webhook(path="echo/{{remote_id}}")
    with pytest.raises(GatewayError) as caught:
        webhook_fetch(webhook=webhook)
    assert caught.value.code == "missing_placeholder"
    assert "'remote_id'" in str(caught.value)
    assert remote.hits == []


def test_submit_sends_json_or_the_rendered_template(make_webhook):
    webhook = make_webhook(path="echo", method="POST", body_template='{"name": "{{ name }}"}')
    response = webhook_submit(webhook=webhook, body={"id": 7})
    seen = response.json()
    assert seen["method"] == "POST" and json.loads(seen["body"]) == {"id": 7}
    assert seen["headers"]["Content-Type"] == "application/json"
    response = webhook_submit(webhook=webhook, template_values={"name": "Ada"})
    assert json.loads(response.json()["body"]) == {"name": "Ada"}


def test_5xx_is_retried_and_every_attempt_logged(make_webhook, remote):
    remote.fault("/items", {"status": 503}, {"status": 502})
    webhook = make_webhook()
    fetch = webhook_fetch(webhook=webhook)
    assert len(next(fetch).records) == 23
    assert fetch.stats.retries == 2
    logs = RequestLog.objects.order_by("attempt")
    assert [(log.attempt, log.status) for log in logs] == [(1, 503), (2, 502), (3, 200)]
    assert all(log.url.endswith("/items") and log.webhook == webhook for log in logs)
    fetch.close()


def test_retries_stop_at_the_limit_with_a_clear_error(make_webhook, remote):
    remote.fault("/items", *[{"status": 503, "body": "down for maintenance"}] * 5)
    webhook = make_webhook()  # the connection allows 3 attempts
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    message = str(caught.value)
    assert f"GET {remote.url}/items answered HTTP 503 after 3 attempt(s)" in message
    assert "down for maintenance" in message
    assert caught.value.status == 503 and caught.value.code == "http_error"
    assert len(remote.hits) == 3


def test_4xx_is_not_retried(make_webhook, remote):
    webhook = make_webhook(path="nowhere")
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.status == 404
    assert len(remote.hits) == 1


def test_retry_after_is_honoured(make_webhook, remote):
    remote.fault("/items", {"status": 429, "headers": {"Retry-After": "1"}})
    started = time.monotonic()
    pages = list(webhook_fetch(webhook=make_webhook()))
    elapsed = time.monotonic() - started
    assert len(pages[0].records) == 23
    assert 1.0 <= elapsed < 3


def test_retry_after_is_capped(make_webhook, remote, settings):
    settings.GATEWAY_RETRY_AFTER_MAX = 0.1
    remote.fault("/items", {"status": 429, "headers": {"Retry-After": "3600"}})
    started = time.monotonic()
    list(webhook_fetch(webhook=make_webhook()))
    assert time.monotonic() - started < 1


def test_retry_after_as_http_date():
    moment = timezone.now() + timedelta(seconds=30)
    assert 28 <= retry_after_seconds(format_datetime(moment, usegmt=True)) <= 30
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds("-5") == 0


def test_retry_after_as_http_date_without_zone():
    # "-0000" (no zone information) parses to a naive datetime, taken as UTC.
    moment = timezone.now() + timedelta(seconds=30)
    assert 28 <= retry_after_seconds(format_datetime(moment.replace(tzinfo=None))) <= 30


def test_backoff_grows_with_jitter_and_a_cap(settings):
    settings.GATEWAY_RETRY_BACKOFF, settings.GATEWAY_RETRY_MAX_DELAY = 1, 4
    assert 0.5 <= retry_delay(1) <= 1
    assert 1 <= retry_delay(2) <= 2
    assert 2 <= retry_delay(10) <= 4


def test_read_timeout_is_retried_then_reported(make_webhook, connection, remote):
    # A second apart: a busy machine may well take 0.2 s to answer the retry itself.
    connection.read_timeout = 1.0
    connection.save()
    remote.fault("/items", {"delay": 2.5})
    fetch = webhook_fetch(webhook=make_webhook())
    assert len(next(fetch).records) == 23
    assert fetch.stats.retries == 1

    remote.fault("/items", *[{"delay": 2.5}] * 3)
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=make_webhook(name="again")))
    assert caught.value.code in ("timeout", "connection_error")
    assert f"{remote.url}/items failed after 3 attempt(s)" in str(caught.value)
    assert "timed out" in str(caught.value).lower()


def test_connection_refused_is_a_clear_error(namespace, make_webhook):
    closed = connection_save(
        namespace=namespace, name="closed", base_url="http://127.0.0.1:9", max_attempts=2
    )
    webhook = make_webhook(connection=closed)
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.code == "connection_error"
    assert (
        str(caught.value).split("GET ", 1)[1]
        == "http://127.0.0.1:9/items failed after 2 attempt(s): connection refused"
    )
    assert RequestLog.objects.filter(status=None).count() == 2


def test_malformed_json_is_a_clear_error(make_webhook, remote):
    remote.fault("/items", {"body": '{"data": [1, 2'})
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=make_webhook()))
    message = str(caught.value)
    assert caught.value.code == "malformed_json"
    assert f"{remote.url}/items answered HTTP 200 with malformed JSON" in message
    assert '{"data": [1, 2' in message


def test_private_destinations_can_be_denied(make_webhook, remote, settings):
    settings.GATEWAY_DENY_PRIVATE_ADDRESSES = True
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=make_webhook()))
    assert caught.value.code == "denied_destination"
    assert "127.0.0.1" in str(caught.value) and "GATEWAY_DENY_PRIVATE_ADDRESSES" in str(
        caught.value
    )
    assert remote.hits == []


def test_a_webhook_without_connection_needs_one(namespace, make_webhook):
    webhook = make_webhook(connection=None)
    with pytest.raises(GatewayError) as caught:
        webhook_fetch(webhook=webhook)
    assert caught.value.code == "no_connection"


def test_logged_bodies_of_failures_only_by_default(make_webhook, remote):
    remote.fault("/items", {"status": 503, "body": "overloaded"}, {"body": "{not json"})
    with pytest.raises(GatewayError):
        list(webhook_fetch(webhook=make_webhook()))
    first, second = RequestLog.objects.order_by("attempt")
    assert (first.status, first.response_body) == (503, "overloaded")
    assert second.status == 200 and second.response_body == "{not json"
    assert "malformed JSON" in second.error

    list(webhook_fetch(webhook=make_webhook(name="fine")))
    assert RequestLog.objects.get(webhook__name="fine").response_body == ""


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"delay": 2.5}])
def test_a_post_that_reached_the_server_is_not_sent_again(make_webhook, connection, remote,
                                                         fault):  # fmt: skip
    """A create answered 500 (or whose answer timed out) may have been carried out: a second
    POST could create twice. A GET in the same case is retried (above)."""
    Connection.objects.filter(pk=connection.pk).update(read_timeout=1)
    remote.fault("/echo", fault, fault)
    webhook = make_webhook(path="echo", method="POST")
    with pytest.raises(GatewayError) as caught:
        webhook_submit(webhook=webhook, body={"name": "Ada"})
    assert len(remote.paths("/echo")) == 1
    assert "after 1 attempt(s)" in str(caught.value)
    assert "a POST is not sent again: it may have been carried out" in str(caught.value)


def test_a_post_refused_before_it_was_read_is_sent_again(make_webhook, connection, remote):
    remote.fault("/echo", {"status": 429, "headers": {"Retry-After": "0"}})
    response = webhook_submit(webhook=make_webhook(path="echo", method="POST"), body={"n": 1})
    assert response.status_code == 200 and len(remote.paths("/echo")) == 2
    # nobody listening: nothing was sent, so every attempt is made
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    Connection.objects.filter(pk=connection.pk).update(base_url=f"http://127.0.0.1:{port}")
    connection.refresh_from_db()
    with pytest.raises(GatewayError) as caught:
        webhook_submit(webhook=make_webhook(name="w2", path="echo", method="POST"), body={})
    assert f"after {connection.max_attempts} attempt(s)" in str(caught.value)
