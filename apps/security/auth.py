"""requests' authentication hooks, one per kind of authorization.

Each reads the :class:`~apps.security.models.Authorization` when a request is
prepared, so that after ``authorization_refresh(authorization)`` the same auth
object sends the new token.
"""

from __future__ import annotations

from collections.abc import Callable

from requests.auth import AuthBase, HTTPBasicAuth
from requests.models import PreparedRequest
from requests_oauthlib import OAuth1

from .models import Authorization


def header_value(prefix: str, token: str) -> str:
    return f"{prefix} {token}" if prefix else token


class BearerAuth(AuthBase):
    """``Authorization: <header_prefix> <token>``."""

    def __init__(self, authorization: Authorization) -> None:
        self.authorization = authorization

    def token(self) -> str:
        return self.authorization.token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = header_value(
            self.authorization.header_prefix, self.token()
        )
        return request


class OAuth2Auth(BearerAuth):
    """A bearer of the OAuth 2.0 access token, obtained or refreshed first if needed."""

    def __init__(
        self, authorization: Authorization, fresh_token: Callable[[Authorization], str]
    ) -> None:
        super().__init__(authorization)
        self.fresh_token = fresh_token

    def token(self) -> str:
        return self.fresh_token(self.authorization)


class ApiKeyAuth(AuthBase):
    """The key as a header or as a query parameter."""

    def __init__(self, authorization: Authorization) -> None:
        self.authorization = authorization

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        auth = self.authorization
        if auth.key_in == Authorization.KeyIn.QUERY:
            request.prepare_url(request.url, {auth.key_name: auth.key_value})
        else:
            request.headers[auth.key_name] = auth.key_value
        return request


def basic_auth(authorization: Authorization) -> AuthBase:
    return HTTPBasicAuth(authorization.username, authorization.password)


def oauth1_auth(authorization: Authorization) -> AuthBase:
    return OAuth1(
        authorization.consumer_key,
        client_secret=authorization.consumer_secret,
        resource_owner_key=authorization.oauth_token or None,
        resource_owner_secret=authorization.oauth_token_secret or None,
        signature_method=authorization.signature_method,
    )
