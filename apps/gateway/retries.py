"""When to try a failed request again, and how long to wait first.

Connection errors, timeouts, 429 and 5xx answers are retried with exponential
backoff and jitter (so that many workers do not retry in lockstep); a
``Retry-After`` header (seconds or an HTTP date) is honoured, up to a cap.
"""

from __future__ import annotations

import random
from datetime import UTC
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.utils import timezone


def is_retryable(status: int | None) -> bool:
    """None (no answer: connection error or timeout), 429 and 5xx are worth retrying."""
    return status is None or status == 429 or status >= 500


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds, or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - timezone.now()).total_seconds())


def retry_delay(attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
    asked = retry_after_seconds(retry_after)
    if asked is not None:
        return min(asked, settings.GATEWAY_RETRY_AFTER_MAX)
    ceiling = min(
        settings.GATEWAY_RETRY_BACKOFF * 2 ** (attempt - 1), settings.GATEWAY_RETRY_MAX_DELAY
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)
