"""The gateway's session: every destination checked (apps.security.destinations),
redirects and connected addresses included; refusals are GatewayErrors."""

from __future__ import annotations

from urllib.parse import urlsplit

from apps.security.destinations import DestinationDenied, OutboundSession, check_destination

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


class GuardedSession(OutboundSession):
    """The client's session: URL checks and the proxy and CA settings of the
    environment read once per origin rather than once per request, as requests
    does (a fifth of the time of a fast page, measured by bench/fetch.py); a
    session lives for one call. Addresses are checked at every connect."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple, dict] = {}

    def check(self, url: str) -> None:
        destination_check(url, deny_private=self.deny_private)

    def request(self, method, url, *args, **kwargs):
        try:
            return super().request(method, url, *args, **kwargs)
        except DestinationDenied as denied:  # at connect time, or a redirect's target
            raise GatewayError(str(denied), code=denied.code, url=url) from None

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (_origin(url), stream, verify, cert)
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert
            )
        return self._environment[key]
