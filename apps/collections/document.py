"""Reading a collection document and saying everything that is wrong with it, by JSON path.

First the JSON Schema in the repo (types, required fields, unknown kinds and
fields), then what a schema cannot say: duplicate names, references to
elements the document does not hold (naming the element that refers),
placeholders not listed under ``secrets``, records of unknown data types.
Every problem is reported, each with its path, e.g.
``$.flows[0].translator: flow crm.import_contacts refers to translator
crm.parse, which the document does not hold``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema

from .kinds import BY_PLURAL, KINDS, REFERENCE_PATTERN, Kind, field_shape, table_of, target_kinds
from .schema import SECRET_TITLE, stored_schema


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class CollectionError(Exception):
    """A document that cannot be installed (or a collection that cannot be built): every
    problem, each with its JSON path. Nothing was changed."""

    def __init__(self, problems: list[Problem], code: str = "invalid_collection") -> None:
        self.problems = problems
        self.code = code
        super().__init__("; ".join(str(p) for p in problems))

    def as_dict(self) -> dict[str, Any]:
        return {"errors": [p.as_dict() for p in self.problems]}


def json_path(parts) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).isidentifier():
            path += f".{part}"
        else:
            path += f"[{str(part)!r}]"
    return path


def load(document: bytes | str | dict) -> dict[str, Any]:
    """The document as a dict; CollectionError when it is not a JSON object."""
    if isinstance(document, bytes | str):
        try:
            document = json.loads(document)
        except UnicodeDecodeError:
            raise CollectionError([Problem("$", "the document is not UTF-8 text")]) from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}"
            raise CollectionError([Problem("$", f"not JSON: {error.msg} at {where}")]) from None
        except RecursionError:
            raise CollectionError([Problem("$", "the JSON is nested too deeply")]) from None
    if not isinstance(document, dict):
        raise CollectionError([Problem("$", "a collection document is a JSON object")])
    return document


# --- the schema ------------------------------------------------------------------------


def article(label: str) -> str:
    return ("an " if label[0] in "aeiou" else "a ") + label


def _kind_at(parts) -> Kind | None:
    return BY_PLURAL.get(parts[0]) if parts and isinstance(parts[0], str) else None


def _explain(error: jsonschema.ValidationError) -> list[Problem]:
    parts = list(error.absolute_path)
    path = json_path(parts)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - known)
        kind = _kind_at(parts)
        if not parts:
            listed = ", ".join(k.plural for k in KINDS)
            what = "unknown element kind {!r}; a document lists " + listed + " and records"
        elif kind is not None and len(parts) == 2:
            what = "unknown field {!r} of " + article(kind.label)
        else:
            what = "unknown field {!r}"
        return [Problem(json_path([*parts, key]), what.format(key)) for key in extra]
    if error.validator == "pattern" and error.validator_value == REFERENCE_PATTERN:
        return [Problem(path, f"{error.instance!r} is not a reference: write namespace.name")]
    if error.schema.get("title") == SECRET_TITLE:
        return [
            Problem(
                path,
                "secrets never appear in a document: write a placeholder "
                '{"$secret": "NAME"} listed under $.secrets, or "" for none',
            )
        ]
    return [Problem(path, error.message)]


def schema_problems(document: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(stored_schema())
    problems = [p for error in validator.iter_errors(document) for p in _explain(error)]
    return sorted(set(problems))


# --- what the schema cannot say --------------------------------------------------------


def items(document: dict[str, Any]) -> Iterator[tuple[Kind, int, dict[str, Any]]]:
    """(kind, index, element) of every element of the document, in install order."""
    for kind in KINDS:
        for index, item in enumerate(document.get(kind.plural, [])):
            yield kind, index, item


def ref_of(item: dict[str, Any]) -> str:
    return f"{item['namespace']}.{item['name']}"


def content_problems(document: dict[str, Any]) -> list[Problem]:
    """Duplicates, dangling references, unlisted placeholders, records of unknown types."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}  # (table, ref) -> path of its first element
    held: set[tuple[str, str]] = set()  # (kind name, ref)
    for kind, index, item in items(document):
        path = f"$.{kind.plural}[{index}]"
        where = (table_of(kind), ref_of(item))
        if where in seen:
            problems.append(
                Problem(
                    f"{path}.name",
                    f"{ref_of(item)} is named twice: {seen[where]} has the same namespace and name",
                )
            )
        else:
            seen[where] = path
        held.add((kind.name, ref_of(item)))
    listed = document.get("secrets", {})
    for kind, index, item in items(document):
        path = f"$.{kind.plural}[{index}]"
        for model_field in kind.fields:
            value = item.get(model_field.name)
            shape = field_shape(model_field)
            if shape in {"reference", "references"} and value:
                targets = target_kinds(model_field)
                values = value if shape == "references" else [value]
                for position, target in enumerate(values):
                    if not any((t.name, target) in held for t in targets):
                        at = f"{path}.{model_field.name}" + (
                            f"[{position}]" if shape == "references" else ""
                        )
                        what = " or ".join(t.label for t in targets)
                        problems.append(
                            Problem(
                                at,
                                f"{kind.label} {ref_of(item)} refers to {what} {target}, which "
                                "the document does not hold",
                            )
                        )
            elif shape == "secret" and isinstance(value, dict):
                name = value["$secret"]
                if name not in listed:
                    problems.append(
                        Problem(
                            f"{path}.{model_field.name}",
                            f"the placeholder {name!r} is not listed under $.secrets",
                        )
                    )
    for data_type in document.get("records", {}):
        if ("data_type", data_type) not in held:
            problems.append(
                Problem(
                    json_path(["records", data_type]),
                    f"records of {data_type}, a data type the document does not hold",
                )
            )
    return sorted(problems)


def check(document: dict[str, Any]) -> list[Problem]:
    """Every problem of a document, schema first (the rest assumes a well-formed document)."""
    return schema_problems(document) or content_problems(document)


def placeholders(document: dict[str, Any]) -> dict[str, list[tuple[Kind, int, str]]]:
    """Secret name -> where it is used: (kind, index, field)."""
    used: dict[str, list[tuple[Kind, int, str]]] = {}
    for kind, index, item in items(document):
        for name in kind.secret_fields:
            value = item.get(name)
            if isinstance(value, dict):
                used.setdefault(value["$secret"], []).append((kind, index, name))
    return used
