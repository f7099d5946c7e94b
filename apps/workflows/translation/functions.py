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
