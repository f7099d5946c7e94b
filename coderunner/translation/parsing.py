"""Parsing bodies (API responses, inbound payloads) into JSON-like values.

* JSON → the value (``NaN``/``Infinity`` are refused: records are JSON).
* XML → ``{root tag: value}``, where an element's value is its text (stripped;
  None when empty) if it has neither attributes nor children, else an object
  with ``"@name"`` for attributes, one key per child tag (a tag seen more than
  once gives a list, in document order) and ``"#text"`` for its own text.
  Namespaces are dropped (local names), values stay strings, text between
  child elements is ignored. DTD entity declarations are refused.
* CSV (``text/csv``, ``text/tab-separated-values``) → a list of objects keyed
  by the header row; a short row's missing values are None, a long row is an error.
* ``text/*`` → the text.

An empty body is None (JSON, XML) or ``[]`` (CSV). Bytes are decoded with the
MIME type's charset, else UTF-8 (JSON also UTF-16/32 with a BOM; XML its own
declaration).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.parsers import expat

from .errors import TranslationError, excerpt
from .mime import media_type


def parse_body(content: bytes | str, *, mime_type: str) -> Any:
    """Parse ``content`` by its MIME type; raises TranslationError saying where it is wrong."""
    media = media_type(mime_type)
    if media.kind == "json":
        return parse_json(_decoded(content, media.charset) if media.charset else content)
    if media.kind == "xml":
        return parse_xml(_decoded(content, media.charset) if media.charset else content)
    if media.kind == "csv":
        return parse_csv(_decoded(content, media.charset), delimiter=media.delimiter)
    if media.kind in {"text", "html"}:
        return _decoded(content, media.charset)
    raise TranslationError(
        f"Cannot parse a body of type {media.essence or 'unknown'!r}: use JSON, XML, CSV or text.",
        code="unsupported_mime_type",
    )


def _decoded(content: bytes | str, charset: str | None) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode(charset or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as error:
        raise TranslationError(
            f"The body is not valid {charset or 'UTF-8'} text: {error}", code="parse_error"
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(content: bytes | str) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        text = error.doc if isinstance(error.doc, str) else ""
        raise TranslationError(
            f"Invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}:\n"
            f"{excerpt(text, error.lineno, error.colno)}",
            code="parse_error", line=error.lineno, column=error.colno,
        ) from None  # fmt: skip
    except (UnicodeDecodeError, ValueError) as error:
        raise TranslationError(f"Invalid JSON: {error}", code="parse_error") from None


def _local(name: str) -> str:
    return name.rpartition("}")[2]


class _XmlBuilder:
    """expat handlers that build the dict convention of this module's docstring."""

    def __init__(self) -> None:
        # Each frame: [tag, attributes, children, text parts].
        self.stack: list[list[Any]] = [["", {}, {}, []]]

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.stack.append([_local(name), attributes, {}, []])

    def end(self, name: str) -> None:
        tag, attributes, children, parts = self.stack.pop()
        text = "".join(parts).strip() or None
        if attributes or children:
            value: Any = {f"@{_local(key)}": item for key, item in attributes.items()}
            value.update(children)
            if text is not None:
                value["#text"] = text
        else:
            value = text
        siblings = self.stack[-1][2]
        if tag not in siblings:
            siblings[tag] = value
        elif isinstance(siblings[tag], list):  # element values are never lists otherwise
            siblings[tag].append(value)
        else:
            siblings[tag] = [siblings[tag], value]

    def text(self, data: str) -> None:
        self.stack[-1][3].append(data)


def _refuse_entities(*args: Any) -> None:
    raise TranslationError("Invalid XML: entity declarations are not accepted.", code="parse_error")


def parse_xml(content: bytes | str) -> dict | None:
    if not content.strip():
        return None
    builder = _XmlBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    parser.buffer_text = True
    try:
        parser.Parse(content, True)
    except expat.ExpatError as error:
        line, column = error.lineno, error.offset + 1
        text = content if isinstance(content, str) else content.decode("utf-8", "replace")
        raise TranslationError(
            f"Invalid XML: {expat.errors.messages[error.code]} at line {line}, column {column}:\n"
            f"{excerpt(text, line, column)}",
            code="parse_error", line=line, column=column,
        ) from None  # fmt: skip
    return builder.stack[0][2]


def parse_csv(text: str, *, delimiter: str = ",") -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = reader.fieldnames or []
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise TranslationError(
                f"Invalid CSV: the header repeats {', '.join(map(repr, duplicates))}.",
                code="parse_error", line=1,
            )  # fmt: skip
        rows = []
        for row in reader:
            if None in row:
                raise TranslationError(
                    f"Invalid CSV: line {reader.line_num} has {len(header) + len(row[None])} "
                    f"values for {len(header)} columns.",
                    code="parse_error", line=reader.line_num,
                )  # fmt: skip
            rows.append(row)
        return rows
    except csv.Error as error:
        raise TranslationError(
            f"Invalid CSV at line {reader.line_num}: {error}",
            code="parse_error", line=reader.line_num,
        ) from None  # fmt: skip
