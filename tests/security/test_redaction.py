"""Secrets never reach the logs: the redaction functions and the console log filter."""

from __future__ import annotations

import io
import logging

import pytest
import requests

from apps.security import services
from apps.security.logging import RedactSecretsFilter
from apps.security.redaction import REDACTED, redact_headers, redact_text, redact_url

from .oauth_server import Credentials

ALL_SECRETS = [
    value
    for name, value in vars(Credentials()).items()
    if "secret" in name or name in {"password", "bearer_token", "key_value"}
]


def test_redact_headers():
    headers = {"Authorization": "Bearer x", "X-Api-Key": "k", "Cookie": "s=1", "Accept": "*/*"}
    assert redact_headers(headers) == {
        "Authorization": REDACTED, "X-Api-Key": REDACTED, "Cookie": REDACTED, "Accept": "*/*",
    }  # fmt: skip


def test_redact_url():
    url = "https://user:pw@api.example.com/v1/items?page=2&access_token=t1&apiKey=k1&code=c1#x"
    assert redact_url(url, {"APIKEY"}) == (
        f"https://user:{REDACTED}@api.example.com/v1/items"
        f"?page=2&access_token={REDACTED}&apiKey={REDACTED}&code={REDACTED}#x"
    )


@pytest.mark.parametrize(
    "text",
    [
        "POST body: grant_type=refresh_token&refresh_token=SECRET1&client_secret=SECRET1",
        "headers={'Authorization': 'Bearer SECRET1', 'Accept': 'application/json'}",
        '{"password": "SECRET1", "name": "x"}',
        "GET /x HTTP/1.1\r\nAuthorization: Basic SECRET1\r\nCookie: sessionid=SECRET1\r\n",
        "login with password=SECRET1 failed",
        "token=SECRET1",
    ],
)
def test_redact_text(text):
    redacted = redact_text(text)
    assert "SECRET1" not in redacted and REDACTED in redacted


def test_redact_text_keeps_ordinary_words():
    text = "status code: 500, key=42, token_type=Bearer, primary_key=id"
    assert redact_text(text) == text


def test_redact_text_hides_known_values():
    assert redact_text("echo: my-Secret-value!", ["my-Secret-value"]) == f"echo: {REDACTED}!"


def test_filter_redacts_message_arguments_and_tracebacks():
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "calling %s with %r", ("u?api_key=K1", {"password": "P1"}),
        None,
    )  # fmt: skip
    try:
        raise ValueError("client_secret=S1")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecretsFilter().filter(record)
    text = logging.Formatter().format(record)
    assert not {"K1", "P1", "S1"} & set(text.replace("=", " ").replace("'", " ").split())
    assert "K1" not in text and "P1" not in text and "S1" not in text


def exercise_every_kind(remote, make_authorization) -> None:
    """Requests with each kind of credentials, and a failing token request."""
    logger = logging.getLogger("apps.test")
    for kind, path in [
        ("basic", "/protected/basic"),
        ("bearer", "/protected/bearer"),
        ("oauth2", "/protected/oauth2"),
    ]:
        auth = services.authorization_auth(make_authorization(kind))
        response = requests.get(remote.url(path), auth=auth, timeout=10)
        logger.info("sent %s", response.request.headers)
    api_key = make_authorization("api_key", key_in="query")
    requests.get(
        remote.url("/protected/api-key-query"),
        auth=services.authorization_auth(api_key),
        timeout=10,
    )
    broken = make_authorization("oauth2", name="broken")
    broken.client.client_secret = "wrong-Secret-7"
    with pytest.raises(services.AuthorizationError) as error:
        services.authorization_refresh(broken)
    logger.error("refresh failed: %s", error.value)


@pytest.fixture
def console_output():
    """What the configured console handler (with its filter) writes, at DEBUG."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    root.setLevel(previous_level)
    handler.setStream(previous_stream)


def test_console_log_holds_no_secret(console_output, remote, make_authorization):
    exercise_every_kind(remote, make_authorization)
    output = console_output.getvalue()
    assert "/protected/api-key-query?X-Api-Key=[REDACTED]" in output  # urllib3's debug line
    assert "refresh failed" in output and "Authorization" in output
    for secret in [*ALL_SECRETS, *remote.access_tokens, "wrong-Secret-7"]:
        assert secret not in output


@pytest.fixture
def unfiltered():
    """The console handler without its filter, which would otherwise redact records first."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    filters = list(handler.filters)
    for log_filter in filters:
        handler.removeFilter(log_filter)
    yield
    for log_filter in filters:
        handler.addFilter(log_filter)


def test_platform_logs_hold_no_secret_even_unfiltered(
    unfiltered, caplog, remote, make_authorization
):
    caplog.set_level(logging.INFO, logger="apps.security")
    exercise_every_kind(remote, make_authorization)
    own = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("apps.security"))
    assert "Obtained an access token" in own
    for secret in [*ALL_SECRETS, *remote.access_tokens, "wrong-Secret-7"]:
        assert secret not in own
