"""manage.py load_records NS.TYPE FILE [--format jsonl|json|csv]: store records from a file.

JSON Lines (one record per line), a JSON array, or CSV with a header row (each
value read with the type the schema gives its column: integer, number, boolean;
an empty cell is left out). Records are validated and upserted by key in batches,
as the API does; the valid ones are stored even when others are refused. Prints
the counts as JSON; exits 1, with the first problems by line, when any was refused.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...models import DataType
from ...services import records_save

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
SHOWN = 10  # problems printed


class Unreadable:
    """A line that is not a record at all (not JSON): reported like a refused record."""

    def __init__(self, message: str) -> None:
        self.message = message


class Command(BaseCommand):
    help = "Store records from a JSON Lines, JSON or CSV file into a data type (NS.TYPE)."

    def add_arguments(self, parser):
        parser.add_argument("data_type", help="NAMESPACE.NAME of the data type")
        parser.add_argument("file", help="the file; - reads JSON Lines from standard input")
        parser.add_argument(
            "--format",
            choices=["jsonl", "json", "csv"],
            help="default: from the file's extension (.jsonl, .json, .csv)",
        )

    def handle(self, *args, **options):
        data_type = _data_type(options["data_type"])
        path = options["file"]
        default = "jsonl" if path == "-" else FORMATS.get(Path(path).suffix.lower())
        kind = options["format"] or default
        if kind is None:
            raise CommandError(f"{path}: say --format jsonl, json or csv")
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as failed:
            raise CommandError(f"{path}: {failed.strerror}") from None
        lines: list[int] = []  # the line of each record, for messages
        unreadable: list[tuple[int, str]] = []
        with stream:
            records = _read(stream, kind, data_type, lines)
            result = records_save(data_type=data_type, records=_valid(records, lines, unreadable))
        summary = result.as_dict()
        problems = [(line, message) for line, message in unreadable]
        for refused in result.errors:
            where = "; ".join(f"{p.path}: {p.message}" for p in refused.problems)
            problems.append((lines[refused.index], where))
        problems.sort()
        summary["invalid"] = len(problems)
        unit = "item" if kind == "json" else "line"  # a JSON array's records by position
        summary["errors"] = [{unit: line, "error": message} for line, message in problems[:SHOWN]]
        self.stdout.write(json.dumps(summary))
        if problems:
            first = "; ".join(f"{unit} {line}: {message}" for line, message in problems[:3])
            raise CommandError(
                f"{len(problems)} record(s) refused (the others are stored): {first}"
            )


def _data_type(reference: str) -> DataType:
    namespace, dot, name = reference.partition(".")
    if not dot:
        raise CommandError(f"{reference!r}: write NAMESPACE.NAME")
    found = (
        DataType.objects.select_related("namespace")
        .filter(namespace__name=namespace, name=name)
        .first()
    )
    if found is None:
        raise CommandError(f"No data type {reference}.")
    return found


def _read(stream, kind: str, data_type: DataType, lines: list[int]) -> Iterator[Any]:
    """The records of the file (an Unreadable for a line that is none), noting their lines."""
    if kind == "json":
        try:
            body = json.load(stream)
        except ValueError as error:
            raise CommandError(f"not JSON: {error}") from None
        if not isinstance(body, list):
            raise CommandError("a JSON file holds an array of records")
        for index, record in enumerate(body, start=1):
            lines.append(index)
            yield record
    elif kind == "jsonl":
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            lines.append(number)
            try:
                yield json.loads(line)
            except ValueError as error:
                yield Unreadable(f"not JSON: {error}")
    else:
        reader = csv.DictReader(stream)
        types = {
            name: (spec or {}).get("type")
            for name, spec in (data_type.schema.get("properties") or {}).items()
        }
        for row in reader:
            lines.append(reader.line_num)
            yield {name: _typed(value, types.get(name)) for name, value in row.items()
                   if name is not None and value != ""}  # fmt: skip


def _typed(value: str, kind: Any) -> Any:
    """A CSV cell as the schema's type for its column wants it (else the text as it is)."""
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() and "." not in value else number
        if kind == "boolean" and value.lower() in {"true", "false", "1", "0"}:
            return value.lower() in {"true", "1"}
    except ValueError:
        pass  # the schema's check says what is wrong with it
    return value


def _valid(records: Iterator[Any], lines: list[int], unreadable: list[tuple[int, str]]):
    """The records, without the unreadable lines (set aside with their line numbers)."""
    for record in records:
        if isinstance(record, Unreadable):
            unreadable.append((lines.pop(), record.message))
            continue
        yield record
