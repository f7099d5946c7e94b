"""Declarative mappings: target field → expression over the source record.

An expression is, by its shape:

* ``=<JSON>`` — a constant: ``="CRM"``, ``=42``, ``=true``, ``=null``, ``={"a": 1}``;
* ``{{ … }}`` (one Jinja2 expression, nothing around it) — evaluated in the
  sandbox to a native value (a number stays a number), with the record's
  fields as variables plus ``record``; a missing variable or attribute is None;
* other text holding ``{{`` or ``{%`` — a Jinja2 template rendered to a string
  (``"Dear {{ first }}"``);
* anything else — JMESPath over the record (``contact.email``,
  ``join(' ', [first, last])``, ``items[*].sku``), with the extra functions
  ``lower``, ``upper``, ``trim`` and ``split``. A missing value is None.

Target fields are dotted paths (``customer.email``) that create nested objects.
Everything is compiled once by ``compile_mapping``: each field to an evaluator
(``MappedField.evaluate``), and the whole mapping to one Python function (see
``fastpath``) that ``Mapping.apply``, the hot path, calls per record. On an
error the fields are evaluated one by one to name the one that failed.

Values are not copied: a mapped list or object is the source record's own.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, Undefined, nodes
from jinja2.sandbox import SecurityError
from jmespath import exceptions as jmespath_errors

from .environment import make_environment
from .errors import TranslationError
from .fastpath import compile_apply
from .functions import FUNCTIONS, INTERPRETER, ExpressionTooBig, compile_jmespath

Evaluator = Callable[[dict], Any]


_ENVIRONMENT = make_environment(strict=False)


@dataclass(frozen=True, slots=True)
class MappedField:
    """One compiled ``target: expression`` pair; ``kind`` is path, jmespath, jinja,
    template or constant."""

    target: str
    path: tuple[str, ...]
    expression: str
    kind: str
    evaluate: Evaluator
    parsed: Any = None  # the JMESPath AST, the Jinja2 expression node, or the constant


class Mapping:
    """A compiled mapping: ``apply(record)`` gives the target record."""

    def __init__(self, fields: list[MappedField], *, omit_none: bool = False) -> None:
        self.fields = tuple(fields)
        self.omit_none = omit_none
        self._build = compile_apply(_tree(self.fields), omit_none=omit_none)

    def __repr__(self) -> str:
        return f"<Mapping of {', '.join(field.target for field in self.fields)}>"

    def apply(self, record: dict) -> dict:
        """The target record for one source record."""
        try:
            return self._build(record)
        except MemoryError:
            raise  # the runner's memory limit: it answers so, and retires
        except Exception as error:
            raise self._runtime_error(record, error) from error

    def apply_many(self, records: Iterable[dict]) -> Iterator[dict]:
        """The target records, lazily, in order."""
        return map(self.apply, records)

    def _runtime_error(self, record: Any, error: Exception) -> TranslationError:
        # Off the hot path: find the field that fails by evaluating them one by one.
        if not isinstance(record, dict):
            return TranslationError(
                f"A record is a JSON object, not {type(record).__name__}.", code="evaluation_error"
            )
        for field in self.fields:
            try:
                field.evaluate(record)
            except MemoryError:
                raise
            except Exception as field_error:
                return _field_error(field, field_error)
        return TranslationError(f"The mapping failed: {error}", code="evaluation_error")


def is_jinja(expression: Any) -> bool:
    """Does this expression run Jinja2 (so in a runner process, not in the platform)?"""
    if not isinstance(expression, str):
        return False
    text = expression.strip()
    return not text.startswith("=") and ("{{" in text or "{%" in text)


def uses_jinja(mapping: Any) -> bool:
    """Does any field of the mapping run Jinja2? JMESPath-only mappings are data: the
    platform applies them itself; the others go to a runner."""
    return isinstance(mapping, dict) and any(is_jinja(value) for value in mapping.values())


def compile_mapping(
    mapping: dict[str, str], *, omit_none: bool = False, jinja: bool = True
) -> Mapping:
    """Compile ``{target field: expression}`` once; ``omit_none`` leaves missing values out.

    Raises TranslationError naming the target field and its expression. With
    ``jinja=False`` (the platform process) a Jinja2 field is a ValueError: those
    are compiled and run in a runner only.
    """
    if not isinstance(mapping, dict):
        raise TranslationError(
            "A mapping is an object of target field → expression.", code="invalid_mapping"
        )
    if not jinja and uses_jinja(mapping):
        raise ValueError("This mapping has Jinja2 fields: apply it in a runner.")
    return Mapping(
        [_compile_field(target, expression) for target, expression in mapping.items()],
        omit_none=omit_none,
    )


def _compile_field(target: Any, expression: Any) -> MappedField:
    if not isinstance(target, str) or not target.strip():
        raise TranslationError(
            f"{target!r}: a target field is a non-empty dotted path.", code="invalid_target",
            field=str(target), expression=str(expression),
        )  # fmt: skip
    path = tuple(target.split("."))
    if not all(path):
        raise TranslationError(
            f"{target}: a target field is a dotted path without empty parts.",
            code="invalid_target", field=target, expression=str(expression),
        )  # fmt: skip
    if not isinstance(expression, str) or not expression.strip():
        raise TranslationError(
            f"{target}: the expression must be non-empty text, not {expression!r}.",
            code="invalid_expression", field=target, expression=str(expression),
        )  # fmt: skip
    text = expression.strip()
    try:
        if text.startswith("="):
            kind, evaluate, parsed = _constant(target, text[1:])
        elif is_jinja(text):
            kind, evaluate, parsed = _jinja(target, text)
        else:
            kind, evaluate, parsed = _jmespath(target, text)
    except TranslationError as error:
        error.expression = expression  # as the user wrote it
        raise
    return MappedField(target, path, expression, kind, evaluate, parsed)


def _constant(target: str, literal: str) -> tuple[str, Evaluator, Any]:
    try:
        value = json.loads(literal)
    except json.JSONDecodeError as error:
        raise TranslationError(
            f"{target}: invalid JSON constant {literal!r}: {error.msg} at column {error.colno}"
            ' (a constant is "=" followed by JSON, e.g. ="CRM", =42, =true).',
            code="invalid_constant", field=target, expression=f"={literal}",
        ) from None  # fmt: skip
    if isinstance(value, dict | list):
        # Each record gets its own copy: an output record may be changed by its consumer.
        return "constant", functools.partial(_deepcopied, value), value
    return "constant", functools.partial(_constant_value, value), value


def _constant_value(value: Any, record: dict) -> Any:
    return value


def _deepcopied(value: Any, record: dict) -> Any:
    return copy.deepcopy(value)


def _jmespath(target: str, text: str) -> tuple[str, Evaluator, Any]:
    try:
        parsed = compile_jmespath(text).parsed
    except ExpressionTooBig as error:
        raise TranslationError(
            f"{target}: the JMESPath expression is too big: {error}.",
            code="invalid_expression", field=target, expression=text,
        ) from None  # fmt: skip
    except jmespath_errors.JMESPathError as error:
        raise TranslationError(
            f"{target}: invalid JMESPath {text!r}: {_jmespath_message(error)}",
            code="invalid_expression", field=target, expression=text,
        ) from None  # fmt: skip
    unknown = sorted(set(_function_names(parsed)) - set(FUNCTIONS.FUNCTION_TABLE))
    if unknown:
        raise TranslationError(
            f"{target}: invalid JMESPath {text!r}: unknown function {unknown[0]}()",
            code="invalid_expression", field=target, expression=text,
        )  # fmt: skip
    keys = _field_path(parsed)
    if keys is not None:
        return "path", _path_getter(keys), parsed
    return "jmespath", functools.partial(INTERPRETER.visit, parsed), parsed


def _jmespath_message(error: jmespath_errors.JMESPathError) -> str:
    position = getattr(error, "lex_position", None)
    where = f" at column {position}" if isinstance(position, int) else ""
    if isinstance(error, jmespath_errors.IncompleteExpressionError):
        return f"incomplete expression{where}"
    message = getattr(error, "msg", None) or str(error).splitlines()[0]
    return f"{message}{where}"


def _function_names(node: dict) -> Iterator[str]:
    if node["type"] == "function_expression":
        yield node["value"]
    for child in node.get("children", ()):
        yield from _function_names(child)


def _field_path(parsed: dict) -> tuple[str, ...] | None:
    """The keys of a plain field path (``a``, ``a.b.c``, ``a."b c"``), else None."""
    if parsed["type"] == "field":
        return (parsed["value"],)
    if parsed["type"] == "subexpression" and all(
        child["type"] == "field" for child in parsed["children"]
    ):
        return tuple(child["value"] for child in parsed["children"])
    return None


def _path_getter(keys: tuple[str, ...]) -> Evaluator:
    # JMESPath's field lookup is ``value.get(key)``, None when there is no ``get``
    # (a list, a string, None): the same here, so the results are identical.
    if len(keys) == 1:
        (key,) = keys

        def get_one(value: Any) -> Any:
            try:
                return value.get(key)
            except AttributeError:
                return None

        return get_one

    def get_path(value: Any) -> Any:
        try:
            for key in keys:
                value = value.get(key)
            return value
        except AttributeError:
            return None

    return get_path


def _jinja(target: str, text: str) -> tuple[str, Evaluator, Any]:
    try:
        expression = _single_expression(_ENVIRONMENT.parse(text).body)
        if expression is not None:
            # What Environment.compile_expression builds, from the parsed node.
            assign = nodes.Assign(nodes.Name("result", "store"), expression, lineno=1)
            template = _ENVIRONMENT.from_string(nodes.Template([assign], lineno=1))
        else:
            template = _ENVIRONMENT.from_string(text)
    except TemplateSyntaxError as error:
        raise TranslationError(
            f"{target}: invalid Jinja2 expression {text!r}: {error.message}",
            code="invalid_expression", field=target, expression=text,
        ) from None  # fmt: skip
    if expression is None:
        return "template", functools.partial(_render, template), None
    evaluate = functools.partial(
        _evaluate, template, template.root_render_func, dict(template.globals)
    )
    return "jinja", evaluate, expression


def _single_expression(body: list[nodes.Node]) -> nodes.Expr | None:
    """The expression of a template that is one ``{{ expression }}`` and nothing else."""
    if len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1:
        expression = body[0].nodes[0]
        if not isinstance(expression, nodes.TemplateData):
            return expression
    return None


def _variables(record: dict) -> dict:
    return {**record, "record": record}


def _render(template: Any, record: dict) -> str:
    return template.render(_variables(record))


def _evaluate(template: Any, render: Any, globals_: dict, record: dict) -> Any:
    # TemplateExpression.__call__ without its two extra copies of the variables.
    context = template.new_context({**globals_, **record, "record": record}, shared=True)
    for _ in render(context):
        pass
    value = context.vars["result"]
    return None if isinstance(value, Undefined) else value


def _field_error(field: MappedField, error: Exception) -> TranslationError:
    what = {"path": "JMESPath", "jmespath": "JMESPath", "jinja": "Jinja2", "template": "Jinja2"}
    sandboxed = isinstance(error, SecurityError)
    reason = (
        f"not allowed in the sandbox: {error}" if sandboxed else f"{type(error).__name__}: {error}"
    )
    return TranslationError(
        f"{field.target}: {what.get(field.kind, field.kind)} {field.expression!r} failed: {reason}",
        code="sandbox_violation" if sandboxed else "evaluation_error",
        field=field.target, expression=field.expression,
    )  # fmt: skip


def _tree(fields: tuple[MappedField, ...]) -> dict:
    """Nested ``{key: MappedField | subtree}`` in the mapping's order; conflicts are errors."""
    tree: dict = {}
    for field in fields:
        node = tree
        for depth, key in enumerate(field.path[:-1]):
            child = node.setdefault(key, {})
            if isinstance(child, MappedField):
                raise _conflict(field, ".".join(field.path[: depth + 1]))
            node = child
        if field.path[-1] in node:
            raise _conflict(field, field.target)
        node[field.path[-1]] = field
    return tree


def _conflict(field: MappedField, prefix: str) -> TranslationError:
    return TranslationError(
        f"{field.target}: conflicts with another target field at {prefix!r} "
        "(a field cannot be both a value and an object).",
        code="invalid_target", field=field.target, expression=field.expression,
    )  # fmt: skip
