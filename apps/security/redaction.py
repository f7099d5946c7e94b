"""Hiding secrets from what the platform writes down: logs, request logs, errors.

One predicate, :func:`is_secret_name`, decides which header, parameter or
JSON key holds a secret; the functions below apply it to headers, URLs and
free text, and also blank out known secret values wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

# Names (lower case, '-' read as '_') that hold a secret, exactly or as a suffix.
SECRET_NAMES = {
    "authorization", "proxy_authorization", "cookie", "set_cookie", "auth", "pwd",
    "assertion", "signature", "sessionid", "client_assertion",
}  # fmt: skip
SECRET_SUFFIXES = ("password", "passwd", "secret", "token", "api_key", "apikey", "signature")
# Secret only as URL parameters (an OAuth code, Google's "key"); in prose,
# "status code: 500" or "key=42" (a record key) must stay readable.
SECRET_URL_PARAMS = {"code", "key"}

# Known secret values shorter than this are not searched for in text: replacing
# every "a" or "42" would mangle the log without hiding anything.
MIN_SECRET_LENGTH = 4

_NAME = r"[A-Za-z_][\w.\-]*"
# "Authorization: Bearer x" (raw HTTP headers): the value runs to the end of the line.
_HEADER_LINE = re.compile(rf"(?<![\w.\-'\"])({_NAME})(\s*:[ \t]*)([^\r\n]+)")
# 'name': 'value' and "name": "value" (reprs of dicts, JSON).
_QUOTED_PAIR = re.compile(rf"""(['"])({_NAME})\1(\s*:\s*)(['"])((?:\\.|(?!\4).)*)\4""")
# name=value (query strings, form bodies, "password=x" in messages).
_ASSIGNMENT = re.compile(rf"(?<![\w.\-])({_NAME})(=)([^&\s'\",;)]*)")


def is_secret_name(name: str) -> bool:
    normalized = name.strip().lower().replace("-", "_")
    return normalized in SECRET_NAMES or normalized.endswith(SECRET_SUFFIXES)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with the values of secret headers replaced."""
    return {
        name: REDACTED if is_secret_name(name) and value else value
        for name, value in headers.items()
    }


def _redact_query(query: str, secret_params: set[str]) -> str:
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        plain = unquote_plus(name)
        secret = is_secret_name(plain) or plain.lower() in secret_params | SECRET_URL_PARAMS
        if sep and value and secret:
            value = REDACTED
        elif "?" in (inner := unquote_plus(value)):
            # A URL inside a parameter, e.g. a login page's ?next=/callback?code=…
            hidden = redact_url(inner, secret_params)
            value = value if hidden == inner else quote(hidden, safe="/")
        parts.append(f"{name}{sep}{value}")
    return "&".join(parts)


def redact_url(url: str, secret_params: Iterable[str] = frozenset()) -> str:
    """``url`` with the values of secret query parameters and any password hidden.

    ``secret_params`` adds parameter names to hide (compared case-insensitively),
    e.g. the name of an API key sent in the query.
    """
    extra = {name.lower() for name in secret_params}
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{REDACTED}@", 1)
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            parts.path,
            _redact_query(parts.query, extra),
            _redact_query(parts.fragment, extra) if "=" in parts.fragment else parts.fragment,
        )
    )


def _by_name(name_group: int, value_group: int):
    def replace(match: re.Match) -> str:
        if not is_secret_name(match.group(name_group)) or not match.group(value_group):
            return match.group(0)
        start, end = match.span(value_group)
        whole = match.string
        return whole[match.start() : start] + REDACTED + whole[end : match.end()]

    return replace


# A URL or a request target with a query, in a log line ("GET /callback/?code=… HTTP/1.1").
_URL_WITH_QUERY = re.compile(r"""(?:\bhttps?://|(?<![\w.])/)[^\s'"<>]*\?[^\s'"<>]*""")


def redact_urls(text: str) -> str:
    """``text`` with the secret query parameters of every URL in it hidden (as
    :func:`redact_url`: OAuth codes, keys, tokens), e.g. in access logs."""
    return _URL_WITH_QUERY.sub(lambda match: redact_url(match.group(0)), text)


def redact_text(text: str, values: Iterable[str] = ()) -> str:
    """``text`` with secret headers, parameters and JSON keys, and ``values``, hidden."""
    # Longest first, so that a secret containing another is hidden whole.
    for value in sorted({v for v in values if v and len(v) >= MIN_SECRET_LENGTH}, key=len)[::-1]:
        text = text.replace(value, REDACTED)
    text = _HEADER_LINE.sub(_by_name(1, 3), text)
    text = _QUOTED_PAIR.sub(_by_name(2, 5), text)
    return _ASSIGNMENT.sub(_by_name(1, 3), text)
