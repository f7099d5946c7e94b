"""The gateway's session: every destination checked (apps.security.destinations),
redirects included."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.conf import settings

from apps.security.destinations import DestinationDenied, check_destination

from .errors import GatewayError


def destination_check(url: str, *, deny_private: bool | None = None) -> None:
    """Raise GatewayError unless ``url`` is an http(s) URL the settings allow."""
    try:
        check_destination(url, deny_private=deny_private)
    except DestinationDenied as denied:
        raise GatewayError(str(denied), code=denied.code, url=url) from None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


class GuardedSession(requests.Session):
    """A session that checks every destination, redirects included, once per host.

    It also reads the proxy and CA settings of the environment once per host
    rather than once per request, as requests does (a fifth of the time of a
    fast page, measured by bench/fetch.py); a session lives for one call.
    """

    def __init__(self) -> None:
        super().__init__()
        self.deny_private = settings.GATEWAY_DENY_PRIVATE_ADDRESSES
        self._checked: set[tuple[str, str, int | None]] = set()
        self._environment: dict[tuple, dict] = {}

    def check(self, url: str) -> None:
        origin = _origin(url)
        if origin not in self._checked:
            destination_check(url, deny_private=self.deny_private)
            self._checked.add(origin)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (_origin(url), stream, verify, cert)
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert
            )
        return self._environment[key]

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target:
            self.check(requests.compat.urljoin(resp.url, target))
        return target
