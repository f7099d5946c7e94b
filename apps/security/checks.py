"""System checks of the security app's configuration."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from .crypto import key_problems


def fernet_keys_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """security.E001: every key of FERNET_KEYS must be a valid Fernet key."""
    keys = getattr(settings, "FERNET_KEYS", None) or []
    if isinstance(keys, str):  # a single key given where a list is expected
        keys = [keys]
    return [
        checks.Error(
            problem,
            hint='Generate a key with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())" and set FERNET_KEYS '
            "(comma-separated; the first encrypts, all decrypt).",
            id="security.E001",
        )
        for problem in key_problems(list(keys))
    ]
