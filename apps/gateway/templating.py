"""``{{placeholders}}`` in webhook paths, parameters, headers and body templates.

Plain placeholders (``Contacts/{{remote_id}}``) are filled here by string
substitution; anything else that Jinja2 must run — filters, loops, a body
template — is rendered in a runner process of the element's namespace
(``apps.runners``, DESIGN §6), where time and memory are bounded. Either way
a placeholder without a value is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from jinja2 import TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from coderunner.host import JobFailed, RunnerError
from coderunner.translation import TranslationError
from coderunner.translation.text import fill_simple, needs_jinja

from .errors import GatewayError

_parser = SandboxedEnvironment()  # parses only, to list placeholder names: never renders


def render(text: str, values: Mapping[str, Any], *, what: str, namespace_id: int | None) -> str:
    """``text`` with its placeholders filled from ``values``; ``what`` names it in errors."""
    try:
        simple = fill_simple(text, values, what=what)
    except TranslationError as error:
        raise GatewayError(error.message, code=error.code) from None
    if simple is not None:
        return simple
    from apps.runners.services import run_job

    job = {"job": "text", "texts": {"text": text}, "values": dict(values), "what": {"text": what}}
    try:
        answer = run_job(
            job, namespace_id=namespace_id, time_limit=settings.RUNNER_TIME_LIMIT_DEFAULT
        )
    except JobFailed as failed:
        raise GatewayError(failed.message, code=failed.code) from None
    except RunnerError as error:
        raise GatewayError(f"{what}: {error.message}", code="template_error") from None
    except (TypeError, ValueError) as error:  # values that are not JSON
        raise GatewayError(f"{what}: the template values must be JSON ({error}).") from None
    return answer["values"]["text"]


def render_values(
    items: Mapping[str, Any], values: Mapping[str, Any], *, what: str, namespace_id: int | None
) -> dict:
    """A copy of a parameters/headers object with placeholders in its text values filled."""
    return {
        key: render(value, values, what=f"{what} '{key}'", namespace_id=namespace_id)
        if isinstance(value, str)
        else value
        for key, value in items.items()
    }


def check(text: str, *, what: str, namespace_id: int | None) -> str | None:
    """What is wrong with ``text`` as a template (compiled in a runner), or None."""
    if not text or not needs_jinja(text):
        return None
    from apps.runners.services import run_job

    job = {"job": "check", "what": "text", "text": text, "label": what}
    try:
        run_job(job, namespace_id=namespace_id, time_limit=10)
    except JobFailed as failed:
        return failed.message
    except RunnerError as error:
        return f"{what} could not be checked: {error.message}"
    return None


def placeholders(*texts: str) -> list[str]:
    """The names the texts' placeholders use, sorted (to offer them in forms)."""
    names: set[str] = set()
    for text in texts:
        if text and "{" in text:
            try:
                names |= meta.find_undeclared_variables(_parser.parse(text))
            except (TemplateError, RecursionError):
                continue
    return sorted(names)
