"""Abuse limits of the API's sign-in: failures per client address, and the token endpoint.

* :class:`AuthFailures` counts failed sign-ins (wrong passwords at the token
  endpoint, unknown or expired tokens) per client address in the cache; past
  ``DEFAULT_THROTTLE_RATES["auth_failure"]`` that address gets 429 for every
  token it sends, right or wrong, until the window has passed. Requests that
  authenticate cost nothing, so heavy API use is not slowed.
* DRF's ScopedRateThrottle bounds every request to ``/api/v2/auth/token/``
  (``DEFAULT_THROTTLE_RATES["auth_token"]``), whatever the outcome.
* :func:`client_ip` is the address both (and django-axes, for the admin's login)
  count by: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies the address
  they saw (X-Forwarded-For), so that a client cannot choose its own.

Admin logins are locked out by django-axes (settings ``AXES_*``).
"""

from __future__ import annotations

from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.authentication import get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_ip(request) -> str:
    """The client's address, as far as the settings let the platform trust it."""
    return BaseThrottle().get_ident(request)


class AuthFailures(SimpleRateThrottle):
    """Failed sign-ins of one client address within the rate's window."""

    scope = "auth_failure"
    num_requests: int  # set from the rate by SimpleRateThrottle.__init__
    duration: int

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}

    def _history(self, request) -> list[float]:
        self.key = self.get_cache_key(request)
        self.now = self.timer()
        history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        self.history = history
        return history

    def check(self, request) -> None:
        """Raise Throttled (429) while this address is past its failures."""
        if len(self._history(request)) >= self.num_requests:
            raise Throttled(
                self.wait(),
                detail="Too many failed sign-ins from your address; try again later.",
            )

    def record(self, request) -> None:
        history = self._history(request)
        self.cache.set(self.key, [self.now, *history], self.duration)


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's hashed tokens (``Authorization: Token …``), with failures counted."""

    def authenticate(self, request):
        failures = AuthFailures()
        words = get_authorization_header(request).split()
        if words and words[0].lower() == b"bearer":
            # The OAuth habit: say how the platform wants its tokens rather than a bare 401.
            raise AuthenticationFailed(
                "API tokens are sent as 'Authorization: Token <token>', not 'Bearer'."
            )
        if len(words) == 1 and words[0].lower() != b"token":
            raise AuthenticationFailed(
                "API tokens are sent as 'Authorization: Token <token>': the header has the "
                "token alone, without 'Token ' before it."
            )
        if words and words[0].lower() == self.authenticate_header(request).lower().encode():
            failures.check(request)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            failures.record(request)
            raise
