"""Create a new API token for a user and print it once, or revoke a user's tokens.

``manage.py create_api_token alice`` prints a new token (it expires after
API_TOKEN_TTL_DAYS, or ``--days N``; ``--days 0`` never). ``--revoke`` deletes
every token of the user instead.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.security.tokens import api_token_create, api_tokens_revoke


class Command(BaseCommand):
    help = "Print a new API token for USER (shown once), or revoke USER's tokens."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, help="Days until it expires (0: never).")
        parser.add_argument("--revoke", action="store_true", help="Revoke every token instead.")

    def handle(self, *args, username: str, days: int | None, revoke: bool, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if revoke:
            count = api_tokens_revoke(user=user)
            self.stdout.write(f"Revoked {count} token(s) of {username}.")
            return
        if days is not None and days < 0:
            raise CommandError("--days must be 0 (never expires) or more.")
        ttl = {} if days is None else {"ttl": timedelta(days=days) if days else None}
        instance, token = api_token_create(user=user, **ttl)
        expiry = instance.expiry.isoformat() if instance.expiry else "never"
        self.stdout.write(f"{token}\n")
        self.stderr.write(f"Shown once; keep it. Expires: {expiry}.")
