# ruff: noqa: S608, S611  (the SQL holds a constant table name; values are bound parameters)
"""Filters on record data from query parameters: ``?address__city=Paris&age__gte=30``.

A parameter names a data field; ``__`` goes into nested objects and may end
with a lookup (:data:`LOOKUPS`). Values are read with the type the schema
gives the field. Anything that is not a filter — an unknown lookup after a
field that has no fields (``?id__frob=3``), a value of the wrong type — is a
400 that says so, never silently ignored.

``contains`` reads as a user means it: text inside a string field, an element
of an array field; ``contained_by``: every element of an array field is one of
the given values. Both work on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connections, router
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from rest_framework.exceptions import ValidationError

from ..models import DataType, Record

RESERVED_PARAMS = {"page", "page_size", "ordering", "format", "async"}
LOOKUPS = {
    "exact", "gt", "gte", "lt", "lte", "contains", "contained_by", "icontains", "startswith",
    "in", "isnull",
}  # fmt: skip
TABLE = Record._meta.db_table


def _field_schema(schema: dict, path: list[str]) -> tuple[dict, str | None]:
    """The schema of the field at ``path`` ({} if unknown), and the first part of the path
    that cannot have fields (a string, a number…) while more parts follow it."""
    node: Any = schema
    for depth, part in enumerate(path):
        if depth and _kinds(node) and not _kinds(node) & {"object", "array"}:
            return {}, path[depth - 1]
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or part not in properties:
            return {}, None
        node = properties[part]
    return (node if isinstance(node, dict) else {}), None


def _kinds(field_schema: Any) -> set[str]:
    kind = field_schema.get("type") if isinstance(field_schema, dict) else None
    return set(kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else [])


def _coerce(raw: str, field_schema: dict, param: str) -> Any:
    kinds = _kinds(field_schema)
    try:
        if "integer" in kinds:
            return int(raw)
        if "number" in kinds:
            return float(raw)
    except ValueError:
        kind = "integer" if "integer" in kinds else "number"
        raise ValidationError({param: f"{raw!r} is not an {kind}" if kind == "integer"
                               else f"{raw!r} is not a number"}) from None  # fmt: skip
    if "boolean" in kinds:
        if raw.lower() not in {"true", "false"}:
            raise ValidationError({param: f"{raw!r} is not true or false"})
        return raw.lower() == "true"
    if "string" in kinds:
        return raw
    try:  # no type in the schema: numbers, booleans and null as JSON, the rest as text
        value = json.loads(raw)
        return value if isinstance(value, int | float | bool) or value is None else raw
    except ValueError:
        return raw


def _values(raw: str, field_schema: dict, param: str) -> list:
    """A list of values: a JSON array, or comma-separated values of the field's items."""
    if raw.startswith("["):
        try:
            values = json.loads(raw)
        except ValueError:
            raise ValidationError({param: f"{raw!r} is not a JSON array"}) from None
        return values
    items = field_schema.get("items") if "array" in _kinds(field_schema) else field_schema
    items = items if isinstance(items, dict) else {}
    return [_coerce(item, items, param) for item in raw.split(",")]


def _array_lookup(path: list[str], lookup: str, values: list):
    """An array field holding all ``values`` (contains) or only some of them (contained_by)."""
    field = "data__" + "__".join(path)
    if connections[router.db_for_read(Record)].vendor == "postgresql":
        return Q(**{f"{field}__{lookup}": values})
    # SQLite has no JSON containment: the array's elements through json_each.
    where = "$" + "".join(f'."{part}"' for part in path)  # parts are checked: [\w-]+
    column = f'"{TABLE}"."data"'
    if lookup == "contains":
        sql = (
            f"NOT EXISTS (SELECT 1 FROM json_each(%s) AS wanted WHERE wanted.value NOT IN "
            f"(SELECT value FROM json_each({column}, %s)))"
            f" AND json_type({column}, %s) = 'array'"
        )
        params: tuple = (json.dumps(values), where, where)
    else:
        sql = (
            f"json_type({column}, %s) = 'array' AND NOT EXISTS (SELECT 1 FROM "
            f"json_each({column}, %s) AS held WHERE held.value NOT IN "
            "(SELECT value FROM json_each(%s)))"
        )
        params = (where, where, json.dumps(values))
    return RawSQL(sql, params, output_field=BooleanField())


def _filter(queryset, param: str, raw: str, data_type: DataType):
    parts = param.split("__")
    lookup = parts[-1] if len(parts) > 1 and parts[-1] in LOOKUPS else "exact"
    path = parts[:-1] if lookup != "exact" or parts[-1] == "exact" else parts
    if not path or not all(p.replace("_", "a").replace("-", "a").isalnum() for p in path):
        raise ValidationError({param: "not a data field filter"})
    field_schema, leaf = _field_schema(data_type.schema, path)
    if leaf is not None:
        raise ValidationError(
            {param: f"{parts[-1]!r} is not a lookup (lookups: {', '.join(sorted(LOOKUPS))}), "
                    f"and {leaf!r} has no fields"}
        )  # fmt: skip
    field = "data__" + "__".join(path)
    kinds = _kinds(field_schema)
    if lookup == "isnull":
        if raw.lower() not in {"true", "false"}:
            raise ValidationError({param: f"{raw!r} is not true or false"})
        return queryset.filter(**{f"{field}__isnull": raw.lower() == "true"})
    if lookup == "in":
        values = [_coerce(item, field_schema, param) for item in raw.split(",")]
        return queryset.filter(**{f"{field}__in": values})
    if lookup == "contained_by":
        return queryset.filter(_array_lookup(path, lookup, _values(raw, field_schema, param)))
    if lookup == "contains":
        if "array" in kinds or (not kinds and raw.startswith("[")):
            return queryset.filter(_array_lookup(path, lookup, _values(raw, field_schema, param)))
        alias = f"text_{len(queryset.query.annotations)}"  # the field as text
        return queryset.alias(**{alias: KT(field)}).filter(**{f"{alias}__contains": raw})
    if lookup in {"icontains", "startswith"}:
        return queryset.filter(**{f"{field}__{lookup}": raw})
    value = _coerce(raw, field_schema, param)
    return queryset.filter(**{field if lookup == "exact" else f"{field}__{lookup}": value})


def filter_records(queryset, data_type: DataType, params):
    """``queryset`` narrowed by the data filters among ``params``; 400 for a bad one."""
    for param, raw in params.items():
        if param in RESERVED_PARAMS:
            continue
        queryset = _filter(queryset, param, raw, data_type)
    return queryset
