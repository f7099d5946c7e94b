"""Fixtures of the security tests: the local remote server and authorizations for it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.security import services
from apps.security.models import Authorization

from .attackers import offline_network
from .oauth_server import OAuthServer, RemoteApi


@pytest.fixture
def remote() -> RemoteApi:
    with OAuthServer() as api:
        yield api


@pytest.fixture
def provider(namespace, remote):
    return services.authorization_provider_save(
        namespace=namespace,
        name="provider",
        token_url=remote.url("/oauth/token"),
        authorize_url=remote.url("/oauth/authorize"),
    )


@pytest.fixture
def oauth_client(namespace, provider, remote):
    return services.authorization_client_save(
        namespace=namespace,
        name="client",
        provider=provider,
        client_id=remote.credentials.client_id,
        client_secret=remote.credentials.client_secret,
    )


@pytest.fixture
def make_authorization(namespace, remote, oauth_client):
    """make_authorization(kind, **fields): an authorization the remote side accepts."""
    c = remote.credentials
    defaults = {
        Authorization.Kind.BASIC: {"username": c.username, "password": c.password},
        Authorization.Kind.BEARER: {"token": c.bearer_token},
        Authorization.Kind.API_KEY: {"key_name": c.key_name, "key_value": c.key_value},
        Authorization.Kind.OAUTH1: {
            "consumer_key": c.consumer_key,
            "consumer_secret": c.consumer_secret,
            "oauth_token": c.oauth_token,
            "oauth_token_secret": c.oauth_token_secret,
        },
        Authorization.Kind.OAUTH2: {"client": oauth_client, "grant_type": "client_credentials"},
    }

    def make(kind: str, name: str | None = None, **fields) -> Authorization:
        return services.authorization_save(
            namespace=namespace,
            name=name or kind,
            kind=kind,
            **{**defaults.get(kind, {}), **fields},
        )

    return make


@pytest.fixture
def offline():
    """A network of the test's own: ``offline.names["api.example.test"] = ["203.0.113.5"]``
    resolves a name; every connect to a non-loopback address fails."""
    names: dict = {}
    with offline_network(names) as lookups:
        yield SimpleNamespace(names=names, lookups=lookups)
