"""JMESPath as mappings use it: the built-in functions plus a few string helpers.

``FAST_FUNCTIONS`` are shortcuts for the generated code of ``fastpath``: each
does what the JMESPath function does when its arguments have the expected
JSON types, and hands anything else to JMESPath itself (which then raises the
same type error it always would).
"""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath import functions as jmespath_functions
from jmespath.visitor import TreeInterpreter


class Functions(jmespath_functions.Functions):
    """JMESPath's built-in functions and ``lower``, ``upper``, ``trim``, ``split``."""

    @jmespath_functions.signature({"types": ["string"]})
    def _func_lower(self, text: str) -> str:
        return text.lower()

    @jmespath_functions.signature({"types": ["string"]})
    def _func_upper(self, text: str) -> str:
        return text.upper()

    @jmespath_functions.signature({"types": ["string"]})
    def _func_trim(self, text: str) -> str:
        return text.strip()

    @jmespath_functions.signature({"types": ["string"]}, {"types": ["string"]})
    def _func_split(self, text: str, separator: str) -> list[str]:
        return text.split(separator)


FUNCTIONS = Functions()
JMESPATH_OPTIONS = jmespath.Options(custom_functions=FUNCTIONS)
# Stateless between calls, so one interpreter serves every mapping (ParsedResult.search
# would build a new one per record).
INTERPRETER = TreeInterpreter(JMESPATH_OPTIONS)
call_function = FUNCTIONS.call_function


def _join(separator: Any, items: Any) -> Any:
    if type(separator) is str and type(items) is list:
        try:
            return separator.join(items)
        except TypeError:  # an item is not a string: JMESPath says which
            pass
    return call_function("join", [separator, items])


def _lower(text: Any) -> Any:
    return text.lower() if type(text) is str else call_function("lower", [text])


def _upper(text: Any) -> Any:
    return text.upper() if type(text) is str else call_function("upper", [text])


def _trim(text: Any) -> Any:
    return text.strip() if type(text) is str else call_function("trim", [text])


# name → (arity, shortcut)
FAST_FUNCTIONS = {
    "join": (2, _join),
    "lower": (1, _lower),
    "upper": (1, _upper),
    "trim": (1, _trim),
}


# Bounds on a JMESPath expression, checked before it is parsed: the parser and
# the interpreter recurse with the nesting, in the platform process.
MAX_EXPRESSION_CHARS = 1000
MAX_EXPRESSION_NESTING = 32
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def expression_too_big(text: str) -> str | None:
    """Why ``text`` is too long or too deeply nested to be parsed, or None."""
    if len(text) > MAX_EXPRESSION_CHARS:
        return f"it is {len(text)} characters long, more than {MAX_EXPRESSION_CHARS}"
    depth = deepest = 0
    quote = None
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
        elif char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    if deepest > MAX_EXPRESSION_NESTING or text.count("!") > MAX_EXPRESSION_NESTING:
        return f"it nests more than {MAX_EXPRESSION_NESTING} levels deep"
    return None


class ExpressionTooBig(Exception):
    """A JMESPath expression past MAX_EXPRESSION_CHARS or MAX_EXPRESSION_NESTING."""


def compile_jmespath(text: str):
    """``jmespath.compile(text)`` within the bounds above; JMESPathError or ExpressionTooBig."""
    reason = expression_too_big(text)
    if reason:
        raise ExpressionTooBig(reason)
    return jmespath.compile(text)
