"""Encrypt every stored secret again with the first key of FERNET_KEYS (key rotation)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.security.services import secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt all secrets with the first key of FERNET_KEYS. Rotate keys by putting a "
        "new key first, running this, then removing the old keys."
    )

    def handle(self, *args, **options):
        written = secrets_reencrypt()
        self.stdout.write(f"Re-encrypted the secrets of {written} row(s).")
