"""Writing the request log: one row per attempt, secrets removed, in bulk.

Rows are kept in memory and inserted in one statement per
``LOG_FLUSH_ROWS`` attempts and when a call ends, so that logging a long
pagination costs one INSERT rather than one per page (bench/fetch.py
measures it). Response bodies are kept for failed attempts only unless
``settings.GATEWAY_LOG_SUCCESS_BODIES``: successful pages are the data being
imported, and redacting every one of them cost a fifth of a fast fetch.
Failed attempts are written as soon as their request is over
(:attr:`RequestLogger.has_failures`), so that they are there to read while
a long fetch goes on.

Rows are written only by the thread that made the logger: a thread that
prefetches pages (:mod:`.prefetch`) hands its rows over with each page
(:meth:`RequestLogger.take`), so no database connection but the caller's is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings

from apps.security.redaction import redact_headers, redact_text, redact_url

from .models import Connection, RequestLog, Webhook

LOG_FLUSH_ROWS = 100


def excerpt(content: bytes | str | None, limit: int) -> str:
    """The start of a body as text, marked when cut."""
    if not content:
        return ""
    if isinstance(content, bytes):
        text = content[: limit + 1].decode("utf-8", "replace")
    else:
        text = content[: limit + 1]
    return text if len(text) <= limit else text[:limit] + "…"


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


class RequestLogger:
    """Collects the attempts of one call and writes them as RequestLog rows."""

    def __init__(
        self,
        *,
        webhook: Webhook,
        connection: Connection,
        secrets: Callable[[], set[str]],
        secret_params: set[str],
    ) -> None:
        self.webhook = webhook
        self.connection = connection
        # Asked anew each time: an OAuth 2.0 token obtained or refreshed during the
        # call is a secret from then on.
        self._secrets = secrets
        self.secret_params = secret_params
        self.body_limit = settings.GATEWAY_LOG_BODY_BYTES
        self.success_bodies = settings.GATEWAY_LOG_SUCCESS_BODIES
        self.rows: list[RequestLog] = []
        self.has_failures = False
        self._writer = threading.get_ident()

    @property
    def secrets(self) -> set[str]:
        return self._secrets()

    def clean_url(self, url: str) -> str:
        return redact_text(redact_url(url, self.secret_params), self.secrets)

    def clean_text(self, content: bytes | str | None) -> str:
        return redact_text(excerpt(content, self.body_limit), self.secrets)

    def clean_headers(self, headers: Mapping[Any, Any]) -> dict[str, str]:
        # Some auth hooks set bytes (requests-oauthlib's OAuth 1.0a header): HTTP header
        # bytes are Latin-1, and the log row is JSON.
        redacted = redact_headers({_text(name): _text(value) for name, value in headers.items()})
        # An API key under a header name the redactor does not know is still a secret.
        secrets = self.secrets
        for name, value in redacted.items():
            if any(secret in str(value) for secret in secrets):
                redacted[name] = redact_text(str(value), secrets)
        return redacted

    def add(
        self,
        *,
        method: str,
        url: str,
        attempt: int,
        at: datetime,
        duration: float,
        headers: Mapping[str, str],
        request_body: bytes | str | None,
        status: int | None = None,
        response_body: bytes | str | None = None,
        error: str = "",
    ) -> None:
        failed = bool(error) or (status or 0) >= 400
        if not failed and not self.success_bodies:
            response_body = None
        self.rows.append(
            RequestLog(
                namespace_id=self.webhook.namespace_id,
                webhook_id=self.webhook.pk,
                connection_id=self.connection.pk,
                method=method,
                url=self.clean_url(url),
                status=status,
                duration_ms=round(duration * 1000),
                attempt=attempt,
                request_headers=self.clean_headers(headers),
                request_body=self.clean_text(request_body),
                response_body=self.clean_text(response_body),
                error=redact_text(error, self.secrets),
                created_at=at,
            )
        )
        self.has_failures = self.has_failures or failed
        if len(self.rows) >= LOG_FLUSH_ROWS:
            self.flush()

    def fail_last(self, *, error: str, response_body: bytes | str | None) -> None:
        """Mark the last attempt failed after the fact (e.g. a 200 with malformed JSON)."""
        if self.rows:
            row = self.rows[-1]
            row.error = redact_text(error, self.secrets)
            row.response_body = self.clean_text(response_body)
            self.has_failures = True

    def take(self) -> tuple[list[RequestLog], bool]:
        """The rows kept so far, and whether one is a failure; the logger starts afresh."""
        rows, failed = self.rows, self.has_failures
        self.rows, self.has_failures = [], False
        return rows, failed

    def flush(self) -> None:
        """Write the rows kept so far (in the thread that made the logger; else keep them)."""
        if threading.get_ident() == self._writer:
            write_rows(self.take()[0])


def write_rows(rows: list[RequestLog]) -> None:
    if len(rows) == 1:  # one INSERT, without bulk_create's transaction around it
        rows[0].save(force_insert=True)
    elif rows:
        RequestLog.objects.bulk_create(rows)
