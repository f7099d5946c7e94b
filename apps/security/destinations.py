"""Where the platform's outbound requests may go: http(s) only, and optionally
public addresses only.

With ``settings.GATEWAY_DENY_PRIVATE_ADDRESSES`` (on in production) a host that
resolves to a loopback, private, link-local, reserved or multicast address is
refused, so that a webhook or a token URL cannot be aimed at the platform's own
network (server-side request forgery). Used by the gateway's HTTP client and
by the OAuth token requests of this app.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class DestinationDenied(Exception):
    """An outbound URL the settings do not allow; ``code`` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_destination(url: str, *, deny_private: bool | None = None) -> None:
    """Raise DestinationDenied unless ``url`` is an http(s) URL the settings allow."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationDenied(
            f"Only http and https URLs can be called, not {url.split('?', 1)[0]!r}.",
            code="unsupported_url",
        )
    if deny_private is None:
        deny_private = settings.GATEWAY_DENY_PRIVATE_ADDRESSES
    if not deny_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise DestinationDenied(
            f"The host {parts.hostname!r} cannot be resolved: {error}",
            code="connection_error",
        ) from None
    for info in infos:
        address = str(info[4][0])
        if _is_private(address):
            raise DestinationDenied(
                f"The host {parts.hostname!r} resolves to {address}, a private, loopback or "
                "link-local address, which GATEWAY_DENY_PRIVATE_ADDRESSES forbids calling.",
                code="denied_destination",
            )
