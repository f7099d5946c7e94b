"""Create the first admin user when there is none (``make run`` calls this).

Takes ADMIN_USER / ADMIN_PASSWORD / ADMIN_EMAIL from the environment (the
password must pass the password validators), or makes up a password and prints
it once. Also prints a new API token for that user, once (tokens are stored hashed).
"""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.security.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an admin (superuser) if none exists and print its credentials once."

    def handle(self, *args, **options):
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin user exists already; sign in with its credentials.")
            return
        username = os.environ.get("ADMIN_USER") or "admin"
        given = os.environ.get("ADMIN_PASSWORD")
        password = given or secrets.token_urlsafe(12)
        try:
            validate_password(password, user=users(username=username))
        except ValidationError as error:
            raise CommandError(f"ADMIN_PASSWORD is too weak: {' '.join(error.messages)}") from None
        user = users.objects.create_superuser(
            username=username, email=os.environ.get("ADMIN_EMAIL", ""), password=password
        )
        _, token = api_token_create(user=user)
        shown = "(from ADMIN_PASSWORD)" if given else password
        self.stdout.write(
            self.style.SUCCESS("Created the admin user. These are shown once; keep them.\n")
            + f"  user:      {username}\n  password:  {shown}\n  API token: {token}\n"
        )
