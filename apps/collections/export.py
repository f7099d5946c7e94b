"""Exporting a collection: one JSON document, the same bytes every time.

The document opens with the collection's name, title, version, description and
authors, then ``secrets``: one named placeholder per secret the elements hold
(what it is for, which element), never a value. Then one list per element kind
(in install order), each sorted by ``namespace.name``, and ``records`` of the
data types exported with their records, sorted by key. References are
``"namespace.name"`` strings; there are no database ids and no timestamps;
object keys inside values are sorted, so SQLite and PostgreSQL give the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from apps.data.models import Record

from .kinds import KINDS, Kind, canonical, exported_value, reference
from .models import Collection
from .selectors import Member, collection_contents

FORMAT = "collection/1"
HEADER = ("format", "name", "title", "version", "description", "authors", "secrets")


def secret_name(kind: Kind, element: models.Model, field_name: str, taken: set[str]) -> str:
    """``namespace.name.field``, or with the kind in front should two kinds collide."""
    name = f"{reference(element)}.{field_name}"
    return name if name not in taken else f"{kind.name}.{name}"


def element_document(kind: Kind, element: models.Model, secrets: dict[str, dict]) -> dict:
    """One element as the document has it; its set secrets are added to ``secrets``."""

    def placeholder(field_name: str) -> str:
        name = secret_name(kind, element, field_name, set(secrets))
        model_field = kind.model._meta.get_field(field_name)
        secrets[name] = {
            "kind": kind.name,
            "element": reference(element),
            "field": field_name,
            "description": str(getattr(model_field, "help_text", "")),
            "required": field_name not in kind.optional_secrets,
        }
        return name

    item: dict[str, Any] = {
        "namespace": element.namespace.name,  # type: ignore[attr-defined]
        "name": element.name,  # type: ignore[attr-defined]
    }
    for model_field in kind.fields:
        item[model_field.name] = exported_value(model_field, element, placeholder)
    return item


def records_document(members: list[Member]) -> dict[str, list]:
    records = {}
    for member in members:
        if member.with_records:
            rows = Record.objects.filter(data_type_id=member.element.pk).values_list("key", "data")
            records[member.reference] = [canonical(data) for _, data in sorted(rows)]
    return dict(sorted(records.items()))


def collection_document(*, collection: Collection) -> dict[str, Any]:
    """The collection as a document (a dict in its stable key order)."""
    members = collection_contents(collection)
    secrets: dict[str, dict] = {}
    lists: dict[str, list] = {}
    for kind in KINDS:
        of_kind = [m for m in members if m.kind is kind]  # sorted by reference already
        if of_kind:
            lists[kind.plural] = [element_document(kind, m.element, secrets) for m in of_kind]
    document: dict[str, Any] = {
        "format": FORMAT,
        "name": collection.name,
        "title": collection.title,
        "version": collection.version,
        "description": collection.description,
        "authors": list(collection.authors),
        "secrets": dict(sorted(secrets.items())),
        **lists,
    }
    records = records_document(members)
    if records:
        document["records"] = records
    return document


def dumps(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def collection_export(*, collection: Collection) -> bytes:
    """The collection's document as UTF-8 JSON bytes: exporting twice gives the same bytes."""
    return dumps(collection_document(collection=collection))
