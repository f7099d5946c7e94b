"""An algorithm's arguments checked against its parameters: names, required, types.

One check for every caller: the engine before a run, and the admin's "Run with
input" form, which shows the same problems as form errors before anything runs.
"""

from __future__ import annotations

from typing import Any

_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


class ArgumentError(Exception):
    """Arguments that do not fit the parameters; ``code`` says how."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def bind_arguments(algorithm, arguments: dict[str, Any]) -> dict[str, Any]:
    """The values of the algorithm's parameters (defaults filled), or ArgumentError."""
    values = {}
    for parameter in algorithm.parameters:
        name = parameter["name"]
        if name in arguments:
            values[name] = arguments[name]
        elif "default" in parameter:
            values[name] = parameter["default"]
        elif parameter.get("required", True):
            raise ArgumentError(
                f"Algorithm {algorithm}: the parameter {name!r} is missing.", "missing_argument"
            )
        else:
            values[name] = None
    for parameter in algorithm.parameters:
        _check_type(algorithm, parameter, values[parameter["name"]])
    unknown = set(arguments) - set(values)
    if unknown:
        raise ArgumentError(
            f"Algorithm {algorithm}: unknown argument(s) {', '.join(sorted(unknown))}.",
            "unknown_argument",
        )
    return values


def _check_type(algorithm, parameter: dict, value: Any) -> None:
    kind = parameter.get("type", "any")
    if kind not in _TYPES or value is None:
        return
    wrong_bool = isinstance(value, bool) and kind in {"integer", "number"}
    if wrong_bool or not isinstance(value, _TYPES[kind]):
        raise ArgumentError(
            f"Algorithm {algorithm}: the parameter {parameter['name']!r} must be "
            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}, not {value!r:.60}.",
            "invalid_argument",
        )
