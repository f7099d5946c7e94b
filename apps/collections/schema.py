"""The JSON Schema of a collection document, derived from the kinds and their models.

The schema in the repo (``schema/collection.schema.json``) is what documents are
validated against and what the API serves; :func:`document_schema` builds it
from :data:`apps.collections.kinds.KINDS`, and a test fails when the two differ
(a model gained a field, a choice or a bound): regenerate it with
``manage.py collection_schema -o apps/collections/schema/collection.schema.json``.
Help texts are left out on purpose, so rewording one changes nothing here.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.data.models import NAME_PATTERN

from .export import FORMAT
from .kinds import KINDS, REFERENCE_PATTERN, Kind, field_shape

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "collection.schema.json"

# semver.org's own regular expression for a semantic version.
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
SECRET_TITLE = "secret placeholder"


def _bounds(model_field: models.Field) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    positive = (models.PositiveIntegerField, models.PositiveSmallIntegerField,
                models.PositiveBigIntegerField)  # fmt: skip
    if isinstance(model_field, positive):
        bounds["minimum"] = 0
    for validator in getattr(
        model_field, "_validators", []
    ):  # those the model declares, not the backend's
        if isinstance(validator, MinValueValidator):
            bounds["minimum"] = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            bounds["maximum"] = validator.limit_value
    return bounds


def field_schema(model_field: models.Field) -> dict[str, Any]:
    shape = field_shape(model_field)
    nullable = ["null"] if model_field.null else []
    if shape == "references":
        return {"type": "array", "items": {"$ref": "#/$defs/reference"}, "uniqueItems": True}
    if shape == "reference":
        json_type = ["string", *nullable] if nullable else "string"
        return {"type": json_type, "pattern": REFERENCE_PATTERN}
    if shape == "secret":
        return {"title": SECRET_TITLE, "anyOf": [{"const": ""}, {"$ref": "#/$defs/secret"}]}
    if shape == "json":
        default = model_field.get_default()
        if isinstance(default, dict):
            return {"type": "object"}
        return {"type": "array"} if isinstance(default, list) else {}
    schema: dict[str, Any] = {"type": [shape, *nullable] if nullable else shape}
    if shape == "datetime":
        schema = {"type": ["string", *nullable], "format": "date-time"}
    if shape in {"integer", "number"}:
        schema.update(_bounds(model_field))
    if shape == "string" and isinstance(model_field, models.CharField) and model_field.max_length:
        schema["maxLength"] = model_field.max_length
    if model_field.choices:
        schema["enum"] = [value for value, _ in model_field.flatchoices]
    return schema


def required(model_field: models.Field) -> bool:
    return not (model_field.has_default() or model_field.blank or model_field.null)


def element_schema(kind: Kind) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "namespace": {"$ref": "#/$defs/name"},
        "name": {"$ref": "#/$defs/name"},
    }
    for model_field in kind.fields:
        properties[model_field.name] = field_schema(model_field)
    return {
        "title": kind.label,
        "type": "object",
        "additionalProperties": False,
        "required": ["namespace", "name", *(f.name for f in kind.fields if required(f))],
        "properties": properties,
    }


def document_schema() -> dict[str, Any]:
    """The schema, built from the kinds (what the file in the repo must equal)."""
    defs: dict[str, Any] = {
        "name": {"type": "string", "maxLength": 100, "pattern": NAME_PATTERN},
        "reference": {"type": "string", "pattern": REFERENCE_PATTERN},
        "secret": {
            "type": "object",
            "additionalProperties": False,
            "required": ["$secret"],
            "properties": {"$secret": {"type": "string", "minLength": 1}},
        },
        "secret_info": {
            "type": "object",
            "required": ["kind", "element", "field"],
            "properties": {
                "kind": {"enum": [kind.name for kind in KINDS]},
                "element": {"$ref": "#/$defs/reference"},
                "field": {"type": "string"},
                "description": {"type": "string"},
                "required": {"type": "boolean"},
            },
        },
    }
    for kind in KINDS:
        defs[kind.name] = element_schema(kind)
    properties: dict[str, Any] = {
        "format": {"const": FORMAT},
        "name": {"$ref": "#/$defs/name"},
        "title": {"type": "string", "maxLength": 200},
        "version": {"type": "string", "pattern": SEMVER_PATTERN},
        "description": {"type": "string"},
        "authors": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "secrets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/secret_info"}},
    }
    for kind in KINDS:
        properties[kind.plural] = {"type": "array", "items": {"$ref": f"#/$defs/{kind.name}"}}
    properties["records"] = {
        "type": "object",
        "propertyNames": {"pattern": REFERENCE_PATTERN},
        "additionalProperties": {"type": "array", "items": {"type": "object"}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Collection document",
        "description": "A bundle of integration elements, exported by one installation of the "
        "platform and installed into another (manage.py import_collection).",
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "name", "version"],
        "properties": properties,
        "$defs": defs,
    }


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@functools.cache
def stored_schema() -> dict[str, Any]:
    """The schema in the repo: documents are validated against it, the API serves it."""
    return json.loads(SCHEMA_FILE.read_text())
