"""Where the platform's outbound requests may go: http(s) URLs that every parser
reads alike, and optionally public addresses only.

Two checks, for every outbound call (webhooks, OAuth token requests, redirects):

* :func:`check_url` before a request is sent: an http(s) URL without user info,
  backslashes, control characters or percent-escapes in the host, whose host
  and port Python's ``urlsplit`` and urllib3 read the same way. URLs that two
  parsers read differently are how a checked host and the host connected to
  come apart (``http://127.0.0.1:9210\\@1.1.1.1``).
* With ``settings.GATEWAY_DENY_PRIVATE_ADDRESSES`` (on in production), the
  address of the socket actually connected: :class:`OutboundSession` resolves
  the host once, when it connects, refuses loopback, private, link-local,
  reserved and multicast addresses, connects to the address it checked (no
  second lookup that DNS rebinding could answer differently) and checks the
  peer of the connected socket again. Environment proxies are not used then:
  the platform could not see the address a proxy connects to.

Used by the gateway's HTTP client and by this app's OAuth token requests.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import SplitResult, urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import parse_url
from urllib3.util.connection import allowed_gai_family


class DestinationDenied(Exception):
    """An outbound URL or address the settings do not allow; ``code`` says why.

    Deliberately not an OSError: urllib3 would take it for a connection error
    and retry it.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# Anywhere in a URL: control characters and backslashes (WHATWG parsers read "\" as "/").
_NEVER_IN_URL = re.compile(r"[\x00-\x1f\x7f\\]")
# In the host part: user info, escapes, spaces.
_NEVER_IN_AUTHORITY = re.compile(r"[@%\s]")


def _shown(url: str) -> str:
    return repr(url.split("?", 1)[0][:200])


def _unsupported(url: str, why: str) -> DestinationDenied:
    return DestinationDenied(
        f"The URL {_shown(url)} cannot be called: {why}.", code="unsupported_url"
    )


def check_url(url: str) -> SplitResult:
    """Raise DestinationDenied (code ``unsupported_url``) unless ``url`` is an http(s)
    URL that every parser reads alike; return its parts."""
    if not isinstance(url, str) or _NEVER_IN_URL.search(url):
        raise _unsupported(str(url), "it holds a backslash or a control character")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        raise _unsupported(url, "its host or port is malformed") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DestinationDenied(
            f"Only http and https URLs can be called, not {_shown(url)}.", code="unsupported_url"
        )
    if _NEVER_IN_AUTHORITY.search(parts.netloc) or not parts.netloc.isascii():
        raise _unsupported(
            url,
            "its host part holds '@', '%', a space or non-ASCII text (put credentials in an "
            "authorization, and write international names in their xn-- form)",
        )
    try:
        port = parts.port
        other = parse_url(url)
    except (ValueError, LocationParseError):
        raise _unsupported(url, "its host or port is malformed") from None
    host = (parts.hostname or "").lower()
    if not host or (other.host or "").lower().strip("[]") != host or other.port != port:
        raise _unsupported(url, "HTTP libraries do not agree on its host")
    return parts


# Networks that lead into a private network or the machine itself. Not the
# documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32):
# no route leads there, and tests play public hosts with them.
PRIVATE_NETWORKS = [
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
        "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
]  # fmt: skip


def is_private(address: str) -> bool:
    """Loopback, private, shared, link-local, multicast or reserved: inside, not outside."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 inside IPv6 (mapped, 6to4, Teredo, NAT64) is the IPv4 address that is reached.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return any(ip in network for network in PRIVATE_NETWORKS if network.version == ip.version)


def _denied(host: str, address: str) -> DestinationDenied:
    shown = host if host == address else f"{host!r} resolves to {address}, which"
    return DestinationDenied(
        f"The host {shown} is a private, loopback or link-local address, which "
        "GATEWAY_DENY_PRIVATE_ADDRESSES forbids calling.",
        code="denied_destination",
    )


def _literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_destination(url: str, *, deny_private: bool | None = None) -> None:
    """The checks that need no network, before a request: :func:`check_url`, and with
    ``deny_private`` (default: the setting) hosts that are private on their face
    (an address literal, ``localhost``). Names are checked when connecting."""
    parts = check_url(url)
    if deny_private is None:
        deny_private = settings.GATEWAY_DENY_PRIVATE_ADDRESSES
    if not deny_private:
        return
    host = parts.hostname or ""
    literal = _literal_address(host)
    if literal is not None and is_private(literal):
        raise _denied(host, literal)
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always loopback
        raise _denied(host, "127.0.0.1")


# --- connect-time checks ------------------------------------------------------------


class _CheckedConnect:
    """urllib3's connection, connecting only to addresses checked at connect time."""

    host: str
    port: int
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        name = self._dns_host.strip("[]")
        try:  # the one lookup: the addresses checked are the addresses connected to
            infos = socket.getaddrinfo(name, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error  # type: ignore[arg-type]
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            if is_private(address):
                raise _denied(name, address)
        failure: Exception = NewConnectionError(self, f"{name} has no address")  # type: ignore[arg-type]
        for address in addresses:
            self._dns_host = address
            try:
                sock = super()._new_conn()  # type: ignore[misc]
            except (NewConnectionError, ConnectTimeoutError) as error:
                failure = error
                continue
            finally:
                self._dns_host = name
            peer = str(sock.getpeername()[0])
            if is_private(peer):  # what the socket reached, whatever led there
                sock.close()
                raise _denied(name, peer)
            return sock
        raise failure


class CheckedHTTPConnection(_CheckedConnect, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnect, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = CheckedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """A requests adapter whose connections check the address they connect to."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise DestinationDenied(
            f"Outbound calls cannot go through the proxy {proxy!r} while "
            "GATEWAY_DENY_PRIVATE_ADDRESSES is on: the platform checks the address it "
            "connects to itself.",
            code="denied_destination",
        )


class OutboundSession(requests.Session):
    """A session for calls to the outside: every URL checked (:func:`check_destination`),
    redirects included, and with ``deny_private`` every connected address."""

    def __init__(self, *, deny_private: bool | None = None) -> None:
        super().__init__()
        if deny_private is None:
            deny_private = settings.GATEWAY_DENY_PRIVATE_ADDRESSES
        self.deny_private = deny_private
        if deny_private:
            adapter = CheckedAdapter()
            self.mount("http://", adapter)
            self.mount("https://", adapter)

    def check(self, url: str) -> None:
        check_destination(url, deny_private=self.deny_private)

    def request(self, method, url, *args, **kwargs):
        self.check(url)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.deny_private:
            merged["proxies"] = {}
        return merged

    def rebuild_proxies(self, prepared_request, proxies):
        if self.deny_private:
            return {}
        return super().rebuild_proxies(prepared_request, proxies)

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target:
            self.check(urljoin(resp.url, target))
        return target
