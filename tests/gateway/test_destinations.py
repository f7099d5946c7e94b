"""Only http(s), and with GATEWAY_DENY_PRIVATE_ADDRESSES no private destination, redirects too."""

from __future__ import annotations

import pytest

from apps.gateway.destinations import GuardedSession, destination_check
from apps.gateway.errors import GatewayError


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data",
     "http://[::1]:8000/", "http://[::ffff:192.168.0.1]/", "http://localhost/", "http://0.0.0.0/",
     "http://api.localhost/"],
)  # fmt: skip
def test_private_addresses_are_refused(url):
    with pytest.raises(GatewayError) as caught:
        destination_check(url, deny_private=True)
    assert caught.value.code == "denied_destination"
    destination_check(url, deny_private=False)  # allowed in development


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x", "http://"]
)
def test_only_http_and_https(url):
    with pytest.raises(GatewayError) as caught:
        destination_check(url, deny_private=False)
    assert caught.value.code == "unsupported_url"


def test_public_addresses_pass():
    destination_check("https://93.184.215.14/", deny_private=True)


def test_redirects_are_checked(remote):
    session = GuardedSession()  # private addresses allowed: the first hop is loopback
    with pytest.raises(GatewayError) as caught:
        session.get(f"{remote.url}/redirect", params={"to": "http://h\\@10.0.0.1/"}, timeout=2)
    assert caught.value.code == "unsupported_url"
    assert [hit["path"] for hit in remote.hits] == ["/redirect"]
