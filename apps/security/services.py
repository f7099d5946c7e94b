"""Writes and uses of authorizations: the security app's one home for both.

The HTTP client of the gateway relies on three functions:

* :func:`authorization_auth` — a requests ``AuthBase`` that applies an
  authorization to each request (obtaining or refreshing OAuth 2.0 tokens first);
* :func:`authorization_refresh` — called once after a 401 to get new credentials;
* :func:`secret_values` — the plaintext secrets, to redact them from logs.

Failures talking to token endpoints raise :class:`AuthorizationError`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.apps import apps
from django.db import models, transaction
from requests.auth import AuthBase

from apps.data.models import Namespace
from apps.data.permissions import CrossNamespaceDenied, use_check
from apps.data.services import element_save

from . import oauth2
from .auth import ApiKeyAuth, BearerAuth, OAuth2Auth, basic_auth, oauth1_auth
from .exceptions import AuthorizationError
from .fields import EncryptedTextField
from .models import Authorization, AuthorizationClient, AuthorizationProvider

__all__ = [
    "AuthorizationError",
    "authorization_access_token",
    "authorization_auth",
    "authorization_authorize_url",
    "authorization_client_save",
    "authorization_code_exchange",
    "authorization_provider_save",
    "authorization_refresh",
    "authorization_save",
    "secret_values",
    "secrets_reencrypt",
]

logger = logging.getLogger(__name__)

Kind = Authorization.Kind
Grant = Authorization.GrantType
Strategy = AuthorizationProvider.RefreshStrategy
Element = TypeVar("Element", bound=models.Model)

# Changing any of these makes the stored OAuth 2.0 tokens belong to something else.
TOKEN_OWNERS = ("kind", "client_id", "grant_type", "scopes")
TOKEN_FIELDS = ("access_token", "refresh_token", "token_type", "expires_at", "authorized")


# --- saving elements -----------------------------------------------------------------


def _element_save(element: Element, fields: Mapping[str, Any], actor=None) -> Element:
    """Validate and save through :func:`apps.data.services.element_save` (``actor``, the
    user saving, must be allowed its references to other namespaces); a secret
    given as None keeps its stored value (forms and the API leave secrets out
    rather than echo them back)."""
    return element_save(
        element,
        dict(fields),
        skip=lambda field, value: (
            value is None and isinstance(field, EncryptedTextField) and not field.null
        ),
        actor=actor,
    )


def authorization_provider_save(
    *,
    namespace: Namespace,
    name: str,
    token_url: str,
    instance: AuthorizationProvider | None = None,
    actor=None,
    **fields: Any,
) -> AuthorizationProvider:
    """Create or change a provider; ``fields`` are its other model fields."""
    return _element_save(
        instance or AuthorizationProvider(),
        {"namespace": namespace, "name": name, "token_url": token_url, **fields},
        actor,
    )


def authorization_client_save(
    *,
    namespace: Namespace,
    name: str,
    provider: AuthorizationProvider,
    client_id: str,
    instance: AuthorizationClient | None = None,
    actor=None,
    **fields: Any,
) -> AuthorizationClient:
    """Create or change a client; a ``client_secret`` left out keeps the stored one."""
    return _element_save(
        instance or AuthorizationClient(),
        {"namespace": namespace, "name": name, "provider": provider, "client_id": client_id,
         **fields},
        actor,
    )  # fmt: skip


def authorization_save(
    *,
    namespace: Namespace,
    name: str,
    kind: str,
    instance: Authorization | None = None,
    actor=None,
    **fields: Any,
) -> Authorization:
    """Create or change an authorization; secrets left out (or None) keep their stored values.

    Changing the client, grant type or scopes of an OAuth 2.0 authorization
    forgets its tokens (they were granted for the old ones) unless new tokens
    are given in the same call.
    """
    authorization = instance or Authorization()
    before = None
    if authorization.pk:
        before = Authorization.objects.filter(pk=authorization.pk).values(*TOKEN_OWNERS).first()
    changes = {"namespace": namespace, "name": name, "kind": kind, **fields}
    if "client" in changes:
        authorization.client = changes.pop("client")
    for field in TOKEN_OWNERS:
        if field in changes:
            setattr(authorization, field, changes.pop(field))
    owners_changed = before and any(before[f] != getattr(authorization, f) for f in TOKEN_OWNERS)
    if owners_changed and not set(TOKEN_FIELDS) & set(changes):
        changes.update(access_token="", refresh_token="", token_type="", expires_at=None)
        changes["authorized"] = False
    return _element_save(authorization, changes, actor)


def secrets_reencrypt() -> int:
    """Encrypt every stored secret again with the first key of FERNET_KEYS.

    Run after putting a new key first; then the old keys can be removed.
    Returns the number of rows written.
    """
    written = 0
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not names:
            continue
        manager = model._base_manager
        for row in manager.values("pk", *names).iterator():
            pk = row.pop("pk")
            with transaction.atomic():
                # update(), not save(): no signals, no auto_now; values are encrypted anew.
                manager.filter(pk=pk).update(**row)
            written += 1
    return written


# --- using authorizations --------------------------------------------------------------


def secret_values(authorization: Authorization | None) -> set[str]:
    """The plaintext secrets an authorization sends, to hide them from logs and bodies."""
    if authorization is None:
        return set()
    values = {getattr(authorization, field) for field in Authorization.SECRET_FIELDS}
    if authorization.client is not None:
        values.add(authorization.client.client_secret)
    if authorization.kind == Kind.BASIC and authorization.password:
        # What the Authorization header carries, should a server echo it back.
        pair = f"{authorization.username}:{authorization.password}".encode()
        values.add(base64.b64encode(pair).decode())
    return {value for value in values if value}


def _oauth2_auth(authorization: Authorization) -> AuthBase:
    authorization_access_token(authorization)  # fail here, before any request is sent
    return OAuth2Auth(authorization, authorization_access_token)


AUTH_BUILDERS: dict[str, Callable[[Authorization], AuthBase]] = {
    Kind.BASIC: basic_auth,
    Kind.BEARER: BearerAuth,
    Kind.API_KEY: ApiKeyAuth,
    Kind.OAUTH1: oauth1_auth,
    Kind.OAUTH2: _oauth2_auth,
}


def authorization_auth(authorization: Authorization | None) -> AuthBase | None:
    """A requests ``AuthBase`` applying ``authorization``; None when there is nothing to send.

    OAuth 2.0: a missing or expired access token is obtained first (client
    credentials) or refreshed (refresh token), and stored encrypted; each
    request checks again, so long paginations survive a token's expiry.
    """
    if authorization is None or authorization.kind not in AUTH_BUILDERS:
        return None
    return AUTH_BUILDERS[authorization.kind](authorization)


def authorization_access_token(authorization: Authorization) -> str:
    """The OAuth 2.0 access token to send now, obtained or refreshed if needed."""
    if authorization.token_expired():
        if not authorization.access_token and authorization.grant_type == Grant.CLIENT_CREDENTIALS:
            _store_tokens(authorization, _fetch_client_credentials(authorization))
        elif not authorization_refresh(authorization) and not authorization.access_token:
            raise AuthorizationError(
                f"Authorization {authorization} has no access token yet: open it in the "
                "admin console and press 'Authorize'.",
                code="not_authorized",
            )
        # An expired token that cannot be refreshed is sent anyway: expiry times
        # are estimates, and a refusal (401) says more than a guess.
    return authorization.access_token


def authorization_refresh(authorization: Authorization) -> bool:
    """Obtain new OAuth 2.0 tokens (after a 401 or on expiry) and store them.

    Returns False when this authorization cannot be refreshed (not OAuth 2.0,
    no refresh token and no client credentials, or a provider that never
    refreshes). Raises AuthorizationError when the token endpoint refuses.
    """
    if authorization.kind != Kind.OAUTH2 or authorization.client_id is None:
        return False
    if _adopt_stored_tokens(authorization):
        return True
    tokens = _refreshed_tokens(authorization)
    if tokens is None:
        return False
    _store_tokens(authorization, tokens)
    logger.info("Refreshed the access token of authorization %s", authorization)
    return True


def authorization_authorize_url(
    *, authorization: Authorization, redirect_uri: str, state: str
) -> str:
    """The provider's page where a user grants this authorization access."""
    return oauth2.authorize_url(
        client=_require_client(authorization),
        scopes=authorization.scopes,
        redirect_uri=redirect_uri,
        state=state,
    )


def authorization_code_exchange(
    *, authorization: Authorization, code: str, redirect_uri: str
) -> Authorization:
    """Exchange the code the provider sent to the callback for tokens, and store them."""
    client = _require_client(authorization)
    body = oauth2.code_body(client, code, redirect_uri)
    tokens = oauth2.request_tokens(client, body, secrets={code, *secret_values(authorization)})
    _store_tokens(authorization, tokens)
    logger.info("Authorization %s was authorized", authorization)
    return authorization


def _require_client(authorization: Authorization) -> AuthorizationClient:
    if authorization.kind != Kind.OAUTH2 or authorization.client is None:
        raise AuthorizationError(
            f"Authorization {authorization} is not an OAuth 2.0 authorization with a client.",
            code="not_oauth2",
        )
    try:  # another namespace's client (and secret) only where the namespace rule allows
        use_check(authorization, ["client"])
        use_check(authorization.client, ["provider"])
    except CrossNamespaceDenied as denied:
        raise AuthorizationError(str(denied), code=denied.code) from None
    return authorization.client


def _fetch_client_credentials(authorization: Authorization) -> oauth2.Tokens:
    client = _require_client(authorization)
    body = oauth2.client_credentials_body(client, authorization.scopes)
    return oauth2.request_tokens(client, body, secrets=secret_values(authorization))


def _refreshed_tokens(authorization: Authorization) -> oauth2.Tokens | None:
    client = _require_client(authorization)
    strategy = client.provider.refresh_token_strategy
    if strategy == Strategy.NONE:
        return None
    grant = authorization.grant_type
    if authorization.refresh_token and (
        strategy == Strategy.REFRESH_TOKEN or grant == Grant.REFRESH_TOKEN
    ):
        body = oauth2.refresh_body(client, authorization.refresh_token)
        try:
            return oauth2.request_tokens(client, body, secrets=secret_values(authorization))
        except AuthorizationError as error:
            if grant != Grant.CLIENT_CREDENTIALS:
                raise
            # A revoked refresh token: the client's own credentials still work.
            logger.warning("%s; fetching a new token with client credentials instead", error)
    if grant == Grant.CLIENT_CREDENTIALS:
        return _fetch_client_credentials(authorization)
    return None


def _adopt_stored_tokens(authorization: Authorization) -> bool:
    """Take newer valid tokens another process stored meanwhile, instead of refreshing again.

    Without this, two workers refreshing at once may each spend the refresh
    token, and providers that rotate refresh tokens then revoke both.
    """
    if authorization.pk is None:
        return False
    stored = Authorization.objects.filter(pk=authorization.pk).only(*TOKEN_FIELDS).first()
    if stored is None or stored.access_token in ("", authorization.access_token):
        return False
    if stored.token_expired():
        return False
    for field in TOKEN_FIELDS:
        setattr(authorization, field, getattr(stored, field))
    return True


def _store_tokens(authorization: Authorization, tokens: oauth2.Tokens) -> None:
    authorization.access_token = tokens.access_token
    if tokens.refresh_token:  # providers may omit it on refresh: keep the old one
        authorization.refresh_token = tokens.refresh_token
    authorization.token_type = tokens.token_type
    authorization.expires_at = tokens.expires_at
    authorization.authorized = True
    if authorization.pk is not None:
        authorization.save(update_fields=[*TOKEN_FIELDS, "updated_at"])
