"""Fixtures of the gateway's tests: a local remote API, connections and webhooks on it."""

from __future__ import annotations

import pytest

from apps.gateway.models import Connection, Webhook
from apps.gateway.services import connection_save, webhook_save
from apps.security.services import authorization_save

from .remote_api import RemoteAPI


@pytest.fixture(autouse=True)
def fast_retries(settings):
    # Real backoff would make every retry test slow; the logic is the same.
    settings.GATEWAY_RETRY_BACKOFF = 0.01
    settings.GATEWAY_RETRY_MAX_DELAY = 0.05
    settings.GATEWAY_RETRY_AFTER_MAX = 5
    settings.GATEWAY_DENY_PRIVATE_ADDRESSES = False


@pytest.fixture
def remote():
    api = RemoteAPI().start()
    yield api
    api.stop()


@pytest.fixture
def connection(namespace, remote) -> Connection:
    return connection_save(
        namespace=namespace, name="remote", base_url=remote.url, read_timeout=2, max_attempts=3
    )


@pytest.fixture
def make_webhook(namespace, connection):
    def make(name: str = "items", path: str = "items", **fields) -> Webhook:
        return webhook_save(
            namespace=namespace, name=name, path=path, **{"connection": connection, **fields}
        )

    return make


@pytest.fixture
def make_authorization(namespace):
    def make(kind: str, name: str = "auth", **fields):
        return authorization_save(namespace=namespace, name=name, kind=kind, **fields)

    return make
