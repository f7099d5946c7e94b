"""The translation library: declarative mappings, templates, and body parsing.

Plain functions and classes, no models: the Translator model stores the
definitions and the engine compiles them here once, then applies them per
record or per lot.

* ``compile_mapping(mapping, *, omit_none=False) -> Mapping`` — target field →
  JMESPath / ``{{ Jinja2 }}`` / ``=JSON`` constant (see ``mapping``).
* ``compile_template(source, *, mime_type, bulk) -> Template`` — a sandboxed
  Jinja2 body for one record or a lot (see ``templates``).
* ``parse_body(content, *, mime_type)`` — JSON, XML, CSV or text into values
  (see ``parsing``).

Every failure is a ``TranslationError`` with a stable ``code``.
"""

from .errors import TranslationError
from .mapping import MappedField, Mapping, compile_mapping, is_jinja, uses_jinja
from .mime import MediaType, media_type
from .parsing import parse_body
from .templates import Template, compile_template

__all__ = [
    "MappedField",
    "Mapping",
    "MediaType",
    "Template",
    "TranslationError",
    "compile_mapping",
    "compile_template",
    "is_jinja",
    "media_type",
    "parse_body",
    "uses_jinja",
]
