"""Where outbound requests may go: http(s) only, and optionally public addresses only.

With ``settings.GATEWAY_DENY_PRIVATE_ADDRESSES`` (on in production) a host that
resolves to a loopback, private, link-local, reserved or multicast address is
refused, so that a webhook cannot be aimed at the platform's own network
(server-side request forgery). Redirects are checked the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings

from .errors import GatewayError


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def destination_check(url: str, *, deny_private: bool | None = None) -> None:
    """Raise GatewayError unless ``url`` is an http(s) URL the settings allow."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GatewayError(
            f"Only http and https URLs can be called, not {url.split('?', 1)[0]!r}.",
            code="unsupported_url",
            url=url,
        )
    if deny_private is None:
        deny_private = settings.GATEWAY_DENY_PRIVATE_ADDRESSES
    if not deny_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise GatewayError(
            f"The host {parts.hostname!r} cannot be resolved: {error}",
            code="connection_error",
            url=url,
        ) from None
    for info in infos:
        address = str(info[4][0])
        if _is_private(address):
            raise GatewayError(
                f"The host {parts.hostname!r} resolves to {address}, a private, loopback or "
                "link-local address, which GATEWAY_DENY_PRIVATE_ADDRESSES forbids calling.",
                code="denied_destination",
                url=url,
            )


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
