"""Algorithms: user Python code with typed parameters, run in the sandbox."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .base import NamespacedElement

PARAMETER_TYPES = {"string", "integer", "number", "boolean", "object", "array", "any"}
MIN_TIME_LIMIT = 0.1


def default_time_limit() -> float:
    return settings.RUNNER_TIME_LIMIT_DEFAULT


def validate_time_limit(value: float) -> None:
    """Between 0.1 s and RUNNER_TIME_LIMIT_MAX (a setting, read when the value is checked)."""
    if not isinstance(value, int | float) or not (
        MIN_TIME_LIMIT <= value <= settings.RUNNER_TIME_LIMIT_MAX
    ):
        raise ValidationError(
            f"A time limit is from {MIN_TIME_LIMIT:g} to {settings.RUNNER_TIME_LIMIT_MAX:g} "
            "seconds (RUNNER_TIME_LIMIT_MAX).",
            code="out_of_range",
        )


class Algorithm(NamespacedElement):
    """A piece of user code (Cenit's algorithm), run under RestrictedPython.

    The code is a function body: its parameters are local names, ``api`` gives
    access to records, webhooks, the task's state and notifications, and
    ``return`` gives the result. It is compiled on save, so syntax errors and
    forbidden constructs are reported with their line numbers before it runs.
    """

    parameters = models.JSONField(
        "parameters",
        default=list,
        blank=True,
        help_text='A list like [{"name": "record", "type": "object", "required": true}]; '
        f"types: {', '.join(sorted(PARAMETER_TYPES))}.",
    )
    code = models.TextField("code", help_text="The function body, in Python.")
    time_limit = models.FloatField(
        "time limit (s)",
        default=default_time_limit,
        validators=[validate_time_limit],
        help_text="A run taking longer is stopped (at most RUNNER_TIME_LIMIT_MAX seconds).",
    )

    class Meta(NamespacedElement.Meta):
        verbose_name = "algorithm"

    @property
    def parameter_names(self) -> list[str]:
        return [p["name"] for p in self.parameters]

    def clean(self) -> None:
        self.code = self.code.replace("\r\n", "\n")  # browsers send CRLF
        errors: dict[str, str | list[str]] = {}
        seen = set()
        if not isinstance(self.parameters, list):
            errors["parameters"] = "A list of {name, type, required, default} objects."
        else:
            for i, parameter in enumerate(self.parameters):
                if (
                    not isinstance(parameter, dict)
                    or not str(parameter.get("name", "")).isidentifier()
                ):
                    errors["parameters"] = f"Parameter #{i + 1} needs a Python identifier as name."
                elif parameter.get("type", "any") not in PARAMETER_TYPES:
                    errors["parameters"] = (
                        f"Parameter {parameter['name']!r}: unknown type {parameter.get('type')!r}."
                    )
                elif parameter["name"] in seen or parameter["name"] == "api":
                    errors["parameters"] = f"Parameter name {parameter['name']!r} is taken."
                seen.add(parameter.get("name") if isinstance(parameter, dict) else None)
        if not errors:
            from ..engine.algorithms import compile_algorithm_of

            try:
                compile_algorithm_of(self)
            except ValidationError as error:
                errors["code"] = error.messages
        if errors:
            raise ValidationError(errors)
