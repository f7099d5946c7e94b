"""A log filter that hides secrets from every record before it is written.

Wired into the console handler by ``LOGGING`` in config/settings.py. It is a
second line of defence: platform code does not log secrets in the first place,
but libraries (urllib3's debug log prints URLs with their query) may.
"""

from __future__ import annotations

import logging

from .redaction import redact_text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours
            return True
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and not record.exc_text:
            # Formatted here so that the traceback text can be redacted too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
