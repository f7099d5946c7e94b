"""Authorizations: how the platform proves who it is to the APIs it calls.

An :class:`Authorization` holds the credentials of one kind (basic, bearer,
API key, OAuth 1.0a, OAuth 2.0). OAuth 2.0 ones use an
:class:`AuthorizationClient` (the app registered at the provider) of an
:class:`AuthorizationProvider` (the provider's endpoints). Every secret is
stored encrypted (:mod:`apps.security.fields`).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from apps.data.models import NamespacedElement, unique_name_constraint

from .destinations import DestinationDenied, check_url
from .fields import EncryptedTextField

# Outbound requests go to http(s) only (a URLField alone also accepts ftp).
http_url = URLValidator(schemes=["http", "https"])


def outbound_url(value: str) -> None:
    """A URL the platform may call: one that every HTTP library reads alike."""
    try:
        check_url(value)
    except DestinationDenied as denied:
        raise ValidationError(str(denied), code="invalid_url") from None


# A token this close to its expiry is treated as expired: it could lapse in flight.
EXPIRY_MARGIN = timedelta(seconds=30)


def unique_name(model: str) -> models.UniqueConstraint:
    return unique_name_constraint("security", model)


class AuthorizationProvider(NamespacedElement):
    """An OAuth 2.0 authorization server: where users authorize and tokens are issued."""

    class RefreshStrategy(models.TextChoices):
        REFRESH_TOKEN = "refresh_token", "use the refresh token when there is one"
        REFETCH = "refetch", "fetch a new token with the authorization's grant"
        NONE = "none", "never refresh (authorize again)"

    class ClientAuthentication(models.TextChoices):
        BODY = "body", "client_id and client_secret in the request body"
        BASIC = "basic", "HTTP Basic header"

    class TokenMethod(models.TextChoices):
        POST = "POST", "POST"
        GET = "GET", "GET"

    authorize_url = models.URLField(
        "authorize URL",
        max_length=500,
        blank=True,
        validators=[http_url, outbound_url],
        help_text="Where the user is sent to grant access (authorization-code grant).",
    )
    token_url = models.URLField(
        "token URL",
        max_length=500,
        validators=[http_url, outbound_url],
        help_text="Where tokens are requested and refreshed.",
    )
    scope_separator = models.CharField(
        "scope separator",
        max_length=5,
        default=" ",
        blank=True,
        help_text="Joins the scopes in requests: ' ' by the standard, ',' for some providers.",
    )
    token_method = models.CharField(
        "token method",
        max_length=5,
        choices=TokenMethod.choices,
        default=TokenMethod.POST,
        help_text="The HTTP method of token requests.",
    )
    client_authentication = models.CharField(
        "client authentication",
        max_length=10,
        choices=ClientAuthentication.choices,
        default=ClientAuthentication.BODY,
        help_text="How the client proves itself to the token URL.",
    )
    refresh_token_strategy = models.CharField(
        "refresh behaviour",
        max_length=20,
        choices=RefreshStrategy.choices,
        default=RefreshStrategy.REFRESH_TOKEN,
        help_text="What to do when an access token expires or is refused.",
    )

    class Meta:
        ordering = ["namespace__name", "name"]
        verbose_name = "authorization provider"
        constraints = [unique_name("authorizationprovider")]


class AuthorizationClient(NamespacedElement):
    """An application registered at a provider: its client id and secret."""

    provider = models.ForeignKey(
        AuthorizationProvider,
        on_delete=models.PROTECT,
        related_name="clients",
        verbose_name="provider",
        help_text="The provider this client is registered at.",
    )
    client_id = models.CharField(
        "client id", max_length=500, help_text="The identifier the provider gave the app."
    )
    client_secret = EncryptedTextField(
        "client secret",
        blank=True,
        help_text="The secret the provider gave the app; stored encrypted.",
    )

    class Meta:
        ordering = ["namespace__name", "name"]
        verbose_name = "authorization client"
        constraints = [unique_name("authorizationclient")]


def split_scopes(scopes: str) -> list[str]:
    """Scopes as written by users: separated by spaces and/or commas."""
    return [scope for scope in re.split(r"[\s,]+", scopes) if scope]


class Authorization(NamespacedElement):
    """The credentials one connection sends to an API, of one kind.

    Only the fields of the authorization's kind are used; ``clean()`` says
    which are missing. OAuth 2.0 tokens are obtained by the platform
    (client-credentials grant, the admin's Authorize button) and refreshed
    when they expire or are refused.
    """

    class Kind(models.TextChoices):
        NONE = "none", "none"
        BASIC = "basic", "basic (username and password)"
        BEARER = "bearer", "bearer token"
        API_KEY = "api_key", "API key"
        OAUTH1 = "oauth1", "OAuth 1.0a"
        OAUTH2 = "oauth2", "OAuth 2.0"

    class KeyIn(models.TextChoices):
        HEADER = "header", "header"
        QUERY = "query", "query parameter"

    class GrantType(models.TextChoices):
        AUTHORIZATION_CODE = "authorization_code", "authorization code"
        CLIENT_CREDENTIALS = "client_credentials", "client credentials"
        REFRESH_TOKEN = "refresh_token", "refresh token"

    class SignatureMethod(models.TextChoices):
        HMAC_SHA1 = "HMAC-SHA1", "HMAC-SHA1"

    kind = models.CharField(
        "kind", max_length=20, choices=Kind.choices, default=Kind.NONE,
        help_text="How the credentials are sent.",
    )  # fmt: skip
    # basic
    username = models.CharField(
        "username", max_length=255, blank=True, help_text="Basic: the user name."
    )
    password = EncryptedTextField("password", blank=True, help_text="Basic: the password.")
    # bearer and oauth2
    token = EncryptedTextField("token", blank=True, help_text="Bearer: the token.")
    header_prefix = models.CharField(
        "header prefix",
        max_length=50,
        default="Bearer",
        blank=True,
        help_text="Bearer and OAuth 2.0: the word before the token in the Authorization "
        "header, e.g. 'Bearer' or 'Zoho-oauthtoken'.",
    )
    # api_key
    key_name = models.CharField(
        "key name", max_length=255, blank=True,
        help_text="API key: the header or query parameter name, e.g. 'X-Api-Key'.",
    )  # fmt: skip
    key_value = EncryptedTextField("key value", blank=True, help_text="API key: the key.")
    key_in = models.CharField(
        "key in", max_length=10, choices=KeyIn.choices, default=KeyIn.HEADER,
        help_text="API key: sent as a header or as a query parameter.",
    )  # fmt: skip
    # oauth1
    consumer_key = models.CharField(
        "consumer key", max_length=255, blank=True, help_text="OAuth 1.0a: the consumer key."
    )
    consumer_secret = EncryptedTextField(
        "consumer secret", blank=True, help_text="OAuth 1.0a: the consumer secret."
    )
    oauth_token = EncryptedTextField(
        "token", blank=True, help_text="OAuth 1.0a: the access token (empty for two-legged)."
    )
    oauth_token_secret = EncryptedTextField(
        "token secret", blank=True, help_text="OAuth 1.0a: the access token secret."
    )
    signature_method = models.CharField(
        "signature method", max_length=20, choices=SignatureMethod.choices,
        default=SignatureMethod.HMAC_SHA1, help_text="OAuth 1.0a: how requests are signed.",
    )  # fmt: skip
    # oauth2
    client = models.ForeignKey(
        AuthorizationClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="authorizations",
        verbose_name="client",
        help_text="OAuth 2.0: the client (and through it the provider) to use.",
    )
    grant_type = models.CharField(
        "grant type", max_length=30, choices=GrantType.choices,
        default=GrantType.AUTHORIZATION_CODE, help_text="OAuth 2.0: how tokens are obtained.",
    )  # fmt: skip
    scopes = models.CharField(
        "scopes", max_length=1000, blank=True,
        help_text="OAuth 2.0: the scopes to ask for, separated by spaces or commas.",
    )  # fmt: skip
    access_token = EncryptedTextField(
        "access token", blank=True, help_text="OAuth 2.0: the current access token."
    )
    refresh_token = EncryptedTextField(
        "refresh token", blank=True,
        help_text="OAuth 2.0: exchanged for new access tokens when they expire.",
    )  # fmt: skip
    token_type = models.CharField(
        "token type", max_length=50, blank=True, help_text="OAuth 2.0: as the provider said."
    )
    expires_at = models.DateTimeField(
        "expires at", null=True, blank=True,
        help_text="OAuth 2.0: when the access token expires (empty: unknown).",
    )  # fmt: skip
    authorized = models.BooleanField(
        "authorized", default=False, help_text="OAuth 2.0: whether tokens were obtained."
    )

    class Meta:
        ordering = ["namespace__name", "name"]
        verbose_name = "authorization"
        constraints = [unique_name("authorization")]

    # Fields each kind needs, with what to tell a user who left one empty.
    REQUIRED: dict[str, dict[str, str]] = {
        Kind.BASIC: {"username": "a username", "password": "a password"},
        Kind.BEARER: {"token": "a token"},
        Kind.API_KEY: {"key_name": "a key name", "key_value": "a key value"},
        Kind.OAUTH1: {"consumer_key": "a consumer key", "consumer_secret": "a consumer secret"},
        Kind.OAUTH2: {"client": "a client", "header_prefix": "a header prefix"},
    }
    SECRET_FIELDS = (
        "password", "token", "key_value", "consumer_secret", "oauth_token",
        "oauth_token_secret", "access_token", "refresh_token",
    )  # fmt: skip

    def clean(self) -> None:
        kind_label = self.Kind(self.kind).label if self.kind in self.Kind.values else self.kind
        errors = {
            field: f"This {kind_label} authorization needs {what}."
            for field, what in self.REQUIRED.get(self.kind, {}).items()
            if not getattr(self, f"{field}_id" if field == "client" else field)
        }
        if self.kind == self.Kind.OAUTH1 and bool(self.oauth_token) != bool(
            self.oauth_token_secret
        ):
            errors["oauth_token_secret"] = (
                "Give both the token and the token secret, or neither (two-legged OAuth 1.0a)."
            )
        if self.kind == self.Kind.OAUTH2 and self.client_id and not errors:
            errors.update(self._oauth2_problems())
        if errors:
            raise ValidationError(errors)

    def _oauth2_problems(self) -> dict[str, str]:
        grant = self.grant_type
        assert self.client is not None  # clean() asks only when a client is set
        provider = self.client.provider
        if grant == self.GrantType.AUTHORIZATION_CODE and not provider.authorize_url:
            return {
                "grant_type": f"The provider {provider} has no authorize URL, which the "
                "authorization-code grant needs; set it or choose another grant."
            }
        if grant == self.GrantType.REFRESH_TOKEN and not self.refresh_token:
            return {"refresh_token": "The refresh-token grant needs a refresh token."}
        return {}

    @property
    def scope_list(self) -> list[str]:
        return split_scopes(self.scopes)

    def token_expired(self) -> bool:
        """No access token, or one that expires within EXPIRY_MARGIN."""
        if not self.access_token:
            return True
        return self.expires_at is not None and self.expires_at <= timezone.now() + EXPIRY_MARGIN
