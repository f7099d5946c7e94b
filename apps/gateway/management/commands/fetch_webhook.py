"""``manage.py fetch_webhook NS.NAME``: call a webhook and print its records as JSON lines.

Records go to stdout, one JSON document per line; a summary (pages, records,
retries, seconds) goes to stderr. A failure exits non-zero with one line
naming the URL and the HTTP status.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.gateway.client import GatewayError, webhook_fetch
from apps.gateway.models import Connection, Webhook


def by_reference(model, reference: str):
    """The element ``namespace.name`` of ``model``, or CommandError."""
    namespace, dot, name = reference.partition(".")
    if not dot or not namespace or not name:
        raise CommandError(f"{reference!r} is not a reference; write it as namespace.name.")
    try:
        return model.objects.select_related("namespace").get(namespace__name=namespace, name=name)
    except model.DoesNotExist:
        raise CommandError(f"There is no {model._meta.verbose_name} {reference}.") from None


def pairs(items: list[str], option: str) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{option} {item!r}: write it as key=value.")
        result[key] = value
    return result


class Command(BaseCommand):
    help = "Call a webhook (NS.NAME) and print its records as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("webhook", help="The webhook, as namespace.name.")
        parser.add_argument(
            "--connection",
            help="A connection (namespace.name) to use instead of the webhook's default.",
        )
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A query parameter to add (repeatable).",
        )
        parser.add_argument(
            "--value",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A value for a {{placeholder}} (repeatable).",
        )
        parser.add_argument(
            "--all-pages",
            action="store_true",
            help="Follow the pagination to the last page (default: first page).",
        )

    def handle(self, *args, **options) -> None:
        webhook = by_reference(Webhook, options["webhook"])
        connection = (
            by_reference(Connection, options["connection"]) if options["connection"] else None
        )
        fetch = None
        try:
            fetch = webhook_fetch(
                webhook=webhook,
                connection=connection,
                parameters=pairs(options["param"], "--param"),
                template_values=pairs(options["value"], "--value"),
                all_pages=options["all_pages"],
            )
            for page in fetch:
                for record in page.records:
                    self.stdout.write(json.dumps(record, ensure_ascii=False))
        except GatewayError as error:
            raise CommandError(" ".join(str(error).split())) from None
        stats = fetch.stats
        self.stderr.write(
            f"pages={stats.pages} records={stats.records} retries={stats.retries} "
            f"seconds={stats.seconds:.3f}",
            style_func=str,  # a summary, not an error: no red
        )
