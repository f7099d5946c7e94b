"""manage.py create_connector SPEC.json [--drop-records]: generate a connector from a spec.

Idempotent: the same spec twice changes nothing; a changed spec updates the
connector in place. Prints a JSON summary (namespace, element names, what was
created, updated, removed and kept); a bad spec is one line listing every
problem by path, and a non-zero exit.
"""

from __future__ import annotations

import json
import sys

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from ...generator import connector_generate
from ...spec import SpecError


class Command(BaseCommand):
    help = "Generate (or update) a connector from a JSON spec (FILE, or - for stdin)."

    def add_arguments(self, parser):
        parser.add_argument("spec", help="the spec (JSON); - reads stdin")
        parser.add_argument(
            "--drop-records",
            action="store_true",
            help="a resource dropped from the spec loses its records too",
        )

    def handle(self, *args, **options):
        path = options["spec"]
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        try:
            spec = json.loads(text)
        except ValueError as error:
            raise CommandError(f"{path} is not JSON: {error}") from None
        try:
            result = connector_generate(spec=spec, actor=None, drop_records=options["drop_records"])
        except SpecError as error:
            raise CommandError(f"invalid spec: {'; '.join(error.problems)}") from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(result.as_dict(), indent=2))
