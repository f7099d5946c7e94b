"""manage.py import_collection FILE [--secret NAME=VALUE]… [--dry-run] [--activate] [--force]

Prints the plan (what is created, updated with which fields, left alone,
removed), then installs it in one transaction; ``--dry-run`` stops after the plan.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from ...document import CollectionError
from ...services import collection_install, collection_plan


def parse_secret(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise CommandError(f"--secret wants NAME=VALUE, not {text!r}")
    return name, value


class Command(BaseCommand):
    help = (
        "Install a collection document (FILE, or - for stdin): show the plan, then apply it "
        "all or nothing. Schedulers and observers arrive inactive unless --activate."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the document (JSON); - reads stdin")
        parser.add_argument(
            "--secret",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="the value of a secret placeholder of the document (repeat for each)",
        )
        parser.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
        parser.add_argument(
            "--activate", action="store_true", help="let its schedulers and observers start"
        )
        parser.add_argument(
            "--force", action="store_true", help="install even an older version than installed"
        )
        parser.add_argument("--json", action="store_true", help="print the plan as JSON")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            if path == "-":
                document = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as source:
                    document = source.read()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        secrets = dict(parse_secret(text) for text in options["secret"])
        arguments = {"secrets": secrets, "activate": options["activate"], "force": options["force"]}
        try:
            if options["dry_run"]:
                plan = collection_plan(document, **arguments)
            else:
                plan = collection_install(document, **arguments).plan
        except CollectionError as error:
            problems = "; ".join(str(p) for p in error.problems)
            raise CommandError(f"{path}: nothing was installed: {problems}") from None
        if options["json"]:
            self.stdout.write(json.dumps({**plan.as_dict(), "dry_run": options["dry_run"]}))
            return
        for line in plan.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            missing = " ".join(f"--secret {name}=…" for name in plan.missing_secrets)
            self.stdout.write(
                "dry run: nothing was changed"
                + (f"; to install, give {missing}" if missing else "")
            )
        else:
            self.stdout.write(f"installed {plan.collection} {plan.version}")
