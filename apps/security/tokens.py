"""API tokens: stored hashed (django-rest-knox), shown once, expiring, revocable.

A token is 64 random hex characters; the database keeps its SHA-512 digest and
its first characters (to find it), never the token. Clients send it as
``Authorization: Token <token>``. A new token is shown once, by whatever
created it (``POST /api/v2/auth/token/``, ``manage.py create_api_token``,
``ensure_admin``, the admin's "Add auth token"); it expires after
``API_TOKEN_TTL_DAYS`` (0: never) and is revoked by deleting it
(``POST /api/v2/auth/logout/``, ``manage.py create_api_token --revoke``, the admin).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from knox.models import AuthToken

_DEFAULT = object()


def api_token_create(*, user, ttl: timedelta | object | None = _DEFAULT) -> tuple[AuthToken, str]:
    """A new token for ``user``: its row and the token itself, to be shown once.

    ``ttl`` defaults to ``settings.API_TOKEN_TTL`` (None: it never expires).
    """
    lifetime = settings.API_TOKEN_TTL if ttl is _DEFAULT else ttl
    return AuthToken.objects.create(user=user, expiry=lifetime)


def api_tokens_revoke(*, user, token: AuthToken | None = None) -> int:
    """Revoke one token of ``user``, or all of them; how many were revoked."""
    tokens = AuthToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    deleted, _ = tokens.delete()
    return deleted
