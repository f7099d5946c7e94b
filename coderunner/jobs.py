"""The jobs a runner does: run algorithms, apply mappings, render templates, check code.

Each job is one JSON message and gives one answer; jobs go lot by lot (a page
of records per job), never record by record. Kinds:

* ``algorithm`` — ``{"name", "code", "parameters": [names], "runs": [arguments…],
  "time_limit", "collect": bool, "task": {"state": {…}} | null, "api": bool}``:
  the algorithm once per argument set, all within one time limit. With
  ``collect`` a failing run gives ``{"error": …}`` in its place (a trigger
  evaluator per record); without, the first failure ends the job.
  Answer: ``{"values": […], "output": text, "task": {"state", "run_again"}}``.
* ``map`` — ``{"mapping": {…}, "records": […]}``: a mapping with Jinja2
  fields (JMESPath-only mappings run in the platform). Answer ``{"values"}``.
* ``render`` — ``{"template", "mime_type", "bulk", "records": […]}``: export
  bodies, one per record or one for the lot. Answer ``{"values"}``.
* ``text`` — ``{"texts": {key: text}, "values": {…}, "what": {key: label}}``:
  webhook placeholders and body templates. Answer ``{"values": {key: text}}``.
* ``check`` — ``{"what": "algorithm"|"template"|"mapping"|"text", …}``: compile
  only (the platform never compiles user code itself). Answer ``{}``.

A failure is :class:`JobError` with a stable ``code``, the user's ``line`` when
known, and what the code printed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .api import API, APIError, Channel
from .sandbox import SandboxError, compile_algorithm
from .sandbox.errors import NestedAlgorithmError
from .sandbox.runtime import CompiledAlgorithm, waited
from .translation import TranslationError, compile_mapping, compile_template
from .translation.text import check_text, render_text

MAX_OUTPUT_CHARS = 100_000


class JobError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str,
        line: int | None = None,
        output: str = "",
        cause: dict | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.line = message, code, line
        self.output, self.cause, self.field = output, cause, field

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"message": self.message, "code": self.code, "line": self.line}
        if self.output:
            found["output"] = self.output[:MAX_OUTPUT_CHARS]
        if self.cause:
            found["cause"] = self.cause
        if self.field:
            found["field"] = self.field
        return found


class _Cache(OrderedDict):
    def remember(self, key: Any, make: Callable[[], Any], size: int = 128) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        while len(self) > size:
            self.popitem(last=False)
        return value


_compiled = _Cache()


def _algorithm(name: str, code: str, parameters: list[str]) -> CompiledAlgorithm:
    return _compiled.remember(
        ("algorithm", name, code, tuple(parameters)),
        lambda: compile_algorithm(code, name=name, parameters=list(parameters)),
    )


def _translation_error(error: TranslationError) -> JobError:
    return JobError(
        error.message, code=error.code, line=error.line, field=getattr(error, "field", None)
    )


def _sandbox_error(error: SandboxError, output: str = "") -> JobError:
    cause = None
    original = error.__cause__ or error.__context__
    if isinstance(original, APIError):
        cause = {"code": original.code, "status": original.status}
    return JobError(
        error.message, code=error.code, line=error.line, output=output or error.output, cause=cause
    )


class _Output:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        if text and self.size < MAX_OUTPUT_CHARS:
            self.parts.append(text)
            self.size += len(text)

    def __str__(self) -> str:
        return "".join(self.parts)[:MAX_OUTPUT_CHARS]


def run_algorithm_job(job: dict, channel: Channel) -> dict:
    # One time limit for the whole job (a lot of runs), less what was spent waiting
    # for the platform's answers.
    limit = float(job["time_limit"])
    deadline = time.monotonic() + limit - waited()
    output = _Output()
    task = job.get("task")
    try:
        compiled = _algorithm(job["name"], job["code"], job["parameters"])
    except SandboxError as error:
        raise _sandbox_error(error) from None

    def remaining() -> float:
        return max(deadline + waited() - time.monotonic(), 0.001)

    def nested(found: dict) -> Any:
        try:
            other = _algorithm(found["name"], found["code"], found["parameters"])
            result = other.execute(
                arguments=found["arguments"], api=api, time_limit=remaining(), reported_limit=limit
            )
        except SandboxError as error:
            output.add(error.output)
            raise NestedAlgorithmError(f"Algorithm {found['name']}, {error}") from None
        output.add(result.output)
        return result.value

    api = (
        API(channel, task_state=(task or {}).get("state") if task else None, run=nested)
        if job.get("api", True)
        else None
    )
    values = []
    for arguments in job["runs"]:
        try:
            result = compiled.execute(
                arguments=arguments, api=api, time_limit=remaining(), reported_limit=limit
            )
        except SandboxError as error:
            output.add(error.output)
            if not job.get("collect"):
                raise _sandbox_error(error, str(output)) from None
            values.append({"error": _sandbox_error(error).as_dict()})
            continue
        output.add(result.output)
        values.append({"value": result.value} if job.get("collect") else result.value)
    answer: dict[str, Any] = {"values": values, "output": str(output)}
    if api is not None and task is not None:
        answer["task"] = {"state": api.task.state, "run_again": api.task.again}
    return answer


def run_map_job(job: dict, channel: Channel) -> dict:
    try:
        mapping = _compiled.remember(
            ("mapping", _freeze(job["mapping"]), bool(job.get("omit_none"))),
            lambda: compile_mapping(job["mapping"], omit_none=bool(job.get("omit_none"))),
        )
        return {"values": [mapping.apply(record) for record in job["records"]]}
    except TranslationError as error:
        raise _translation_error(error) from None


def run_render_job(job: dict, channel: Channel) -> dict:
    try:
        template = _template(job)
        if template.bulk:
            return {"values": [template.render_many(job["records"])]}
        return {"values": [template.render(record) for record in job["records"]]}
    except TranslationError as error:
        raise _translation_error(error) from None


def run_text_job(job: dict, channel: Channel) -> dict:
    values = job.get("values") or {}
    what = job.get("what") or {}
    try:
        return {
            "values": {
                key: render_text(text, values, what=what.get(key, key))
                for key, text in job["texts"].items()
            }
        }
    except TranslationError as error:
        raise _translation_error(error) from None


def run_check_job(job: dict, channel: Channel) -> dict:
    what = job["what"]
    try:
        if what == "algorithm":
            _algorithm(job["name"], job["code"], job["parameters"])
        elif what == "template":
            _template(job)
        elif what == "mapping":
            compile_mapping(job["mapping"])
        elif what == "text":
            check_text(job["text"], what=job.get("label", "the text"))
        else:
            raise JobError(f"Unknown check {what!r}.", code="protocol")
    except SandboxError as error:
        raise _sandbox_error(error) from None
    except TranslationError as error:
        raise _translation_error(error) from None
    return {}


def _template(job: dict):
    mime_type = job.get("mime_type") or "application/json"
    bulk = bool(job.get("bulk"))
    return _compiled.remember(
        ("template", job["template"], mime_type, bulk),
        lambda: compile_template(job["template"], mime_type=mime_type, bulk=bulk),
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple((key, _freeze(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


HANDLERS: dict[str, Callable[[dict, Channel], dict]] = {
    "algorithm": run_algorithm_job,
    "map": run_map_job,
    "render": run_render_job,
    "text": run_text_job,
    "check": run_check_job,
}
