"""Gunicorn's settings for `make run` in production (gunicorn reads ./gunicorn.conf.py
from its working directory, the project root).

The access log hides secret URL parameters (the OAuth callback's ``code``) and headers.
"""

logger_class = "apps.security.logging.AccessLogger"
