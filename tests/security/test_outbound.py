"""Issue 9.2: outbound calls reach only the addresses the policy allows, checked on the
socket actually connected; URLs that parsers read differently are refused.

Nothing leaves this machine: "public" hosts are names the test resolves itself to
documentation addresses (203.0.113.0/24), every connect to a non-loopback address
fails, and the attacker's loopback listener must receive nothing.
"""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter

from apps.gateway.client import GatewayError, webhook_fetch
from apps.gateway.destinations import GuardedSession
from apps.gateway.models import Connection, RequestLog
from apps.gateway.services import connection_save, webhook_save
from apps.security import services
from apps.security.destinations import DestinationDenied, check_url
from apps.security.exceptions import AuthorizationError
from apps.security.models import AuthorizationProvider
from tests.gateway.remote_api import RemoteAPI

from .attackers import Listener

PUBLIC = "203.0.113.5"


@pytest.fixture
def production(settings):
    settings.GATEWAY_DENY_PRIVATE_ADDRESSES = True
    settings.GATEWAY_RETRY_BACKOFF = 0.01


@pytest.fixture
def listener():
    with Listener() as attacker:
        yield attacker


def _webhook(namespace, base_url: str, *, attempts: int = 1):
    connection = Connection(namespace=namespace, name="c", base_url="https://x.example")
    connection.save()  # written around the service, as an old row or a fixture may be
    Connection.objects.filter(pk=connection.pk).update(base_url=base_url, max_attempts=attempts)
    connection.refresh_from_db()
    return webhook_save(namespace=namespace, name="w", path="items", connection=connection)


def _oauth2(namespace, token_url: str):
    provider = services.authorization_provider_save(
        namespace=namespace, name="p", token_url="https://auth.example/token"
    )
    AuthorizationProvider.objects.filter(pk=provider.pk).update(token_url=token_url)
    provider.refresh_from_db()
    client = services.authorization_client_save(
        namespace=namespace, name="c", provider=provider, client_id="id",
        client_secret="client-secret-canary",
    )  # fmt: skip
    return services.authorization_save(
        namespace=namespace, name="a", kind="oauth2", client=client,
        grant_type="client_credentials",
    )  # fmt: skip


AMBIGUOUS = [
    "http://127.0.0.1:{port}\\@1.1.1.1/",
    "http://127.0.0.1:{port}\\@1.1.1.1",
    "http://1.1.1.1\\@127.0.0.1:{port}/",
    "http://user:pw@127.0.0.1:{port}/",
    "http://1.1.1.1@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}%40@1.1.1.1/",
    "http://127.0.0.1\t:{port}/",
    "http://127.0.0.1:{port}\n.example.com/",
    "http://127.0.0.1 .example.com:{port}/",
    "http://[127.0.0.1:{port}/",
    "http://127.0.0.1:99999/",
    "http://ex\u0430mple.com/",
    "http://127.0.0.1:{port}/a\\b",
]


@pytest.mark.parametrize("template", AMBIGUOUS)
def test_urls_that_parsers_read_differently_are_refused(offline, template, listener, namespace):
    url = template.format(port=listener.port)
    with pytest.raises(DestinationDenied) as caught:
        check_url(url)
    assert caught.value.code == "unsupported_url"
    with pytest.raises(ValidationError) as refused:  # and never stored
        connection_save(namespace=namespace, name="c", base_url=url)
    assert "base_url" in refused.value.message_dict
    assert listener.received == []


@pytest.mark.parametrize("deny_private", [True, False])
def test_the_backslash_trick_reaches_nothing_in_either_mode(
    offline, deny_private, settings, listener, namespace
):
    settings.GATEWAY_DENY_PRIVATE_ADDRESSES = deny_private
    webhook = _webhook(namespace, f"http://127.0.0.1:{listener.port}\\@1.1.1.1")
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.code == "unsupported_url"
    assert listener.received == []
    assert RequestLog.objects.get().error  # the refusal is in the request log


def test_the_backslash_trick_on_a_token_url_reaches_nothing(
    offline, production, listener, namespace
):
    authorization = _oauth2(namespace, f"http://127.0.0.1:{listener.port}\\@1.1.1.1/token")
    with pytest.raises(AuthorizationError) as caught:
        services.authorization_refresh(authorization)
    assert caught.value.code == "unsupported_url"
    assert "client-secret-canary" not in str(caught.value)
    assert listener.received == []


def test_dns_rebinding_cannot_reach_loopback(offline, production, listener, namespace):
    """The first lookup says public, every later one loopback: a check that resolves
    and a connect that resolves again would reach the listener."""
    answers = itertools.chain([[PUBLIC]], itertools.repeat(["127.0.0.1"]))
    webhook = _webhook(namespace, f"http://rebind.example.test:{listener.port}", attempts=3)
    offline.names.update({"rebind.example.test": lambda: next(answers)})
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert listener.received == []
    # One lookup per connection attempt: the public answer was connected to (the test
    # network refused it, a retry followed); the loopback one was refused before connecting.
    assert caught.value.code == "denied_destination"
    assert "127.0.0.1" in str(caught.value)
    assert offline.lookups == ["rebind.example.test"] * 2


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    offline, production, listener, namespace
):
    webhook = _webhook(namespace, f"http://mixed.example.test:{listener.port}")
    offline.names.update({"mixed.example.test": [PUBLIC, "127.0.0.1"]})
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.code == "denied_destination"
    assert listener.received == []


def test_a_public_name_is_connected_to_by_the_checked_address(offline, production, namespace):
    webhook = _webhook(namespace, "http://public.example.test")
    offline.names.update({"public.example.test": [PUBLIC]})
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.code == "connection_error"  # allowed, and the test network said no
    assert PUBLIC in RequestLog.objects.get().error or "unreachable" in str(caught.value)


def test_a_token_url_resolving_to_loopback_is_refused_when_connecting(
    offline, production, listener, namespace
):
    authorization = _oauth2(namespace, f"http://tokens.example.test:{listener.port}/token")
    offline.names.update({"tokens.example.test": ["127.0.0.1"]})
    with pytest.raises(AuthorizationError) as caught:
        services.authorization_refresh(authorization)
    assert caught.value.code == "denied_destination"
    assert "client-secret-canary" not in str(caught.value)
    assert listener.received == []


def test_redirects_are_checked_when_they_connect(offline, production, listener):
    """A "public" server (here: one whose adapter skips the check) redirects to a name
    that resolves to the listener: the redirect's connection is refused."""
    redirector = RemoteAPI().start()
    try:
        hop = f"http://hop.example.test:{redirector.url.rsplit(':', 1)[1]}"
        session = GuardedSession()
        session.mount(hop, HTTPAdapter())  # unchecked, as if the first hop were public
        target = f"http://inside.example.test:{listener.port}/admin"
        names = {"inside.example.test": ["127.0.0.1"], "hop.example.test": ["127.0.0.1"]}
        offline.names.update(names)
        with pytest.raises(GatewayError) as caught:
            session.get(f"{hop}/redirect", params={"to": target}, timeout=2)
        assert caught.value.code == "denied_destination"
        assert [hit["path"] for hit in redirector.hits] == ["/redirect"]
        assert listener.received == []
    finally:
        redirector.stop()


def test_environment_proxies_are_not_used_when_private_addresses_are_denied(
    offline, production, listener, namespace, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", listener.url)  # a proxy would connect for us, unchecked
    webhook = _webhook(namespace, "http://public.example.test")
    offline.names.update({"public.example.test": [PUBLIC]})
    with pytest.raises(GatewayError) as caught:
        list(webhook_fetch(webhook=webhook))
    assert caught.value.code == "connection_error"
    assert listener.received == []
