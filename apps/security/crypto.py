"""Encryption of secrets at rest with Fernet (AES-128-CBC + HMAC-SHA256).

``settings.FERNET_KEYS`` lists the keys: the first encrypts, every one
decrypts. To rotate, put a new key first, keep the old ones after it, run
``manage.py reencrypt_secrets``, then drop the old keys.
"""

from __future__ import annotations

import binascii
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret that none of the configured keys decrypts."""


def key_problems(keys: list[str] | tuple[str, ...]) -> list[str]:
    """Why each bad key of ``keys`` is unusable, naming its position, never its value."""
    if not keys:
        return ["FERNET_KEYS is empty; at least one key is needed to encrypt secrets."]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError, binascii.Error):
            problems.append(
                f"Key #{position} of FERNET_KEYS is not a Fernet key "
                "(32 bytes, url-safe base64-encoded: 44 characters ending in '=')."
            )
    return problems


@cache
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    # Cached per key list, so that override_settings(FERNET_KEYS=…) takes effect.
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _multi_fernet(tuple(settings.FERNET_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key of FERNET_KEYS "
            "(was the key that encrypted it removed?)."
        ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
