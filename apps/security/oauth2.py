"""The client side of OAuth 2.0 token endpoints (RFC 6749), without storage.

Request bodies are built by oauthlib's clients; the HTTP call is made here so
that every failure becomes an :class:`AuthorizationError` naming the token URL
and the status, with secrets redacted from whatever is quoted.
"""

from __future__ import annotations

import json
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import requests
from django.utils import timezone
from oauthlib.common import add_params_to_qs, add_params_to_uri
from oauthlib.oauth2 import BackendApplicationClient, WebApplicationClient

from .destinations import DestinationDenied, OutboundSession
from .exceptions import AuthorizationError
from .models import AuthorizationClient, AuthorizationProvider, split_scopes
from .redaction import redact_text, redact_url

logger = logging.getLogger(__name__)

TOKEN_TIMEOUT = 30  # seconds; a token endpoint slower than this is treated as down
EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Tokens:
    """What a token endpoint granted."""

    access_token: str
    refresh_token: str = ""
    token_type: str = ""
    expires_at: datetime | None = None


def join_scopes(provider: AuthorizationProvider, scopes: str) -> str | None:
    # oauthlib joins lists with spaces; a ready string keeps the provider's separator.
    return (provider.scope_separator or " ").join(split_scopes(scopes)) or None


def authorize_url(
    *, client: AuthorizationClient, scopes: str, redirect_uri: str, state: str
) -> str:
    """Where to send the user to grant access (authorization-code grant, RFC 6749 §4.1.1)."""
    # Built here rather than by oauthlib's WebApplicationClient, which refuses
    # http:// outright; whether plain HTTP is acceptable is the URL validator's call.
    params = [
        ("response_type", "code"),
        ("client_id", client.client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
    ]
    scope = join_scopes(client.provider, scopes)
    if scope:
        params.append(("scope", scope))
    return add_params_to_uri(client.provider.authorize_url, params)


def client_credentials_body(client: AuthorizationClient, scopes: str) -> str:
    return BackendApplicationClient(client.client_id).prepare_request_body(
        scope=join_scopes(client.provider, scopes)
    )


def refresh_body(client: AuthorizationClient, refresh_token: str) -> str:
    # No scope: the refreshed token keeps the scopes originally granted (RFC 6749 §6).
    return WebApplicationClient(client.client_id).prepare_refresh_body(refresh_token=refresh_token)


def code_body(client: AuthorizationClient, code: str, redirect_uri: str) -> str:
    return WebApplicationClient(client.client_id).prepare_request_body(
        code=code, redirect_uri=redirect_uri, include_client_id=False
    )


def request_tokens(client: AuthorizationClient, body: str, *, secrets: set[str]) -> Tokens:
    """Send a token request (``body`` from one of the builders above) and parse the answer.

    ``secrets`` are hidden from error messages besides the client secret.
    """
    provider = client.provider
    url = provider.token_url
    hidden = {*secrets, client.client_secret}
    auth = None
    if provider.client_authentication == AuthorizationProvider.ClientAuthentication.BASIC:
        auth = requests.auth.HTTPBasicAuth(client.client_id, client.client_secret)
    else:
        body = add_params_to_qs(
            body, [("client_id", client.client_id), ("client_secret", client.client_secret)]
        )
    headers = {"Accept": "application/json"}
    try:
        with OutboundSession() as session:
            # No redirects: a token request re-sent elsewhere would carry the client secret.
            if provider.token_method == AuthorizationProvider.TokenMethod.GET:
                response = session.get(
                    url, params=body, headers=headers, auth=auth, timeout=TOKEN_TIMEOUT,
                    allow_redirects=False,
                )  # fmt: skip
            else:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                response = session.post(
                    url, data=body, headers=headers, auth=auth, timeout=TOKEN_TIMEOUT,
                    allow_redirects=False,
                )  # fmt: skip
    except DestinationDenied as denied:
        raise AuthorizationError(
            f"The token endpoint {redact_url(url)} may not be called: {denied}", code=denied.code
        ) from None
    except requests.RequestException as error:
        raise AuthorizationError(
            f"The token request to {url} failed: {redact_text(str(error), hidden)}",
            code="token_request_failed",
        ) from None
    excerpt = redact_text(response.text[:EXCERPT_CHARS], hidden)
    if response.status_code >= 400:
        raise AuthorizationError(
            f"The token endpoint {url} answered HTTP {response.status_code}: {excerpt}",
            code="token_endpoint_error",
        )
    tokens = parse_tokens(response)
    if tokens is None:
        raise AuthorizationError(
            f"The token endpoint {url} answered HTTP {response.status_code} "
            f"without an access_token: {excerpt}",
            code="invalid_token_response",
        )
    logger.info("Obtained an access token from %s", url)
    return tokens


def parse_tokens(response: requests.Response) -> Tokens | None:
    """Tokens from a JSON answer, or a form-encoded one (as some providers send)."""
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        data = dict(parse_qsl(response.text))
    if not isinstance(data, dict) or not data.get("access_token"):
        return None
    expires_at = None
    # No or unreadable expiry: the token is used until it is refused.
    with suppress(KeyError, TypeError, ValueError):
        expires_at = timezone.now() + timedelta(seconds=int(data["expires_in"]))
    return Tokens(
        access_token=str(data["access_token"]),
        refresh_token=str(data.get("refresh_token") or ""),
        token_type=str(data.get("token_type") or ""),
        expires_at=expires_at,
    )
