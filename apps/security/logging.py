"""Hiding secrets from what is logged: a log filter, and gunicorn's access log.

:class:`RedactSecretsFilter` is wired into the console handler and into the
development server's access log (``django.server``) by ``LOGGING`` in
config/settings.py; :class:`AccessLogger` is gunicorn's logger class
(gunicorn.conf.py). They are a second line of defence: platform code does not
log secrets in the first place, but libraries (urllib3's debug log prints URLs
with their query) and access logs (the OAuth callback's ``?code=``) may.
"""

from __future__ import annotations

import logging

from .redaction import is_secret_name, redact_text, redact_url, redact_urls


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours
            return True
        record.msg, record.args = redact_urls(redact_text(message)), ()
        if record.exc_info and not record.exc_text:
            # Formatted here so that the traceback text can be redacted too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn serves production only
    _GunicornLogger = object  # type: ignore[misc, assignment]


class AccessLogger(_GunicornLogger):  # type: ignore[misc, valid-type]
    """Gunicorn's logger, with secret URL parameters and headers hidden from access lines."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f"):  # the request line, the path, the referer
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_urls(atoms[name]) if name == "r" else redact_url(atoms[name])
        if atoms.get("q"):
            atoms["q"] = redact_url(f"/?{atoms['q']}")[2:]
        for key in list(atoms):  # request headers, as "{authorization}i"
            if key.startswith("{") and key.endswith("}i") and is_secret_name(key[1:-2]):
                atoms[key] = "[REDACTED]"
        return atoms
