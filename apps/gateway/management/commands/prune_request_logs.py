"""``manage.py prune_request_logs [--days N]``: delete old request log rows."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.gateway.services import request_logs_prune


class Command(BaseCommand):
    help = "Delete request log rows older than --days (default REQUEST_LOG_RETENTION_DAYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Keep this many days of logs.")

    def handle(self, *args, **options) -> None:
        days = (
            options["days"] if options["days"] is not None else settings.REQUEST_LOG_RETENTION_DAYS
        )
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = request_logs_prune(days=days)
        self.stdout.write(f"Deleted {deleted} request log row(s) older than {days} day(s).")
