"""Translators applied to lots of records (a page, a chunk, an export lot).

JMESPath mappings are data: the platform compiles them once and applies them
itself (``coderunner.translation``, with expression sizes bounded). Anything
that runs user code — a mapping with Jinja2 fields, a template, the python
style — goes to a runner of the translator's namespace, one job per lot
(DESIGN §6). Checking a definition on save goes the same way.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.runners.services import run_job
from coderunner.host import JobFailed, RunnerError
from coderunner.translation import Mapping, TranslationError, compile_mapping, uses_jinja

from .algorithms import AlgorithmFailed, run_algorithm, run_algorithm_many

# Records per runner job: a lot's JSON stays well below the output limit.
JOB_RECORDS = 500

_cache: OrderedDict[str, Mapping | None] = OrderedDict()
_lock = threading.Lock()


def compile_translator(translator) -> Mapping | None:
    """The in-process mapping of a JMESPath-only mapping translator (None for an empty
    one, which copies records); compiled once per definition."""
    key = json.dumps(translator.mapping, sort_keys=True, default=str)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        compiled = compile_mapping(translator.mapping, jinja=False) if translator.mapping else None
    except TranslationError as error:
        raise ValidationError({"mapping": str(error)}) from None
    with _lock:
        _cache[key] = compiled
        while len(_cache) > 256:
            _cache.popitem(last=False)
    return compiled


def _runs_in_runner(translator) -> bool:
    return translator.style != "mapping" or uses_jinja(translator.mapping)


def check_translator(translator) -> None:
    """ValidationError naming the field when the mapping or template does not compile."""
    if translator.style == "mapping":
        if not isinstance(translator.mapping, dict):
            raise ValidationError({"mapping": "A JSON object: target field → expression."})
        if not uses_jinja(translator.mapping):
            compile_translator(translator)
            return
        job = {"job": "check", "what": "mapping", "mapping": translator.mapping}
        field = "mapping"
    elif translator.style == "template":
        job = {"job": "check", "what": "template", **_template(translator)}
        field = "template"
    else:
        return  # the python style: its algorithm is checked when it is saved
    try:
        run_job(job, namespace_id=translator.namespace_id, time_limit=10)
    except JobFailed as failed:
        raise ValidationError({field: failed.message}) from None
    except RunnerError as error:
        raise ValidationError({field: f"Could not be checked: {error.message}"}) from None


def _template(translator) -> dict[str, Any]:
    return {
        "template": translator.template,
        "mime_type": translator.mime_type,
        "bulk": translator.bulk,
    }


def _runner_values(translator, job: dict[str, Any], records: list, *, lots: bool = True) -> list:
    """The job's values over ``records``, in lots of JOB_RECORDS (or all at once)."""
    values: list = []
    step = JOB_RECORDS if lots else max(len(records), 1)
    for start in range(0, len(records), step):
        try:
            answer = run_job(
                {**job, "records": records[start : start + step]},
                namespace_id=translator.namespace_id,
                time_limit=settings.RUNNER_TIME_LIMIT_DEFAULT,
            )
        except JobFailed as failed:
            raise TranslationError(
                f"Translator {translator}: {failed.message}",
                code=failed.code, field=failed.field, line=failed.line,
            ) from None  # fmt: skip
        except RunnerError as error:
            raise TranslationError(
                f"Translator {translator}: {error.message}", code=error.code
            ) from None
        values.extend(answer["values"])
    return values


def _algorithm(translator):
    if translator.algorithm is None:
        raise AlgorithmFailed(
            f"Translator {translator} is in python style but has no algorithm.",
            code="incomplete_flow",
        )
    return translator.algorithm


def translate_records(translator, records: list[dict], *, context=None) -> list:
    """Import, conversion and update: the records a lot becomes (a translation that
    gives a list contributes each of its items)."""
    if translator.style == "python":
        algorithm = _algorithm(translator)
        if "records" in algorithm.parameter_names:  # a parser that handles the whole lot
            return list(run_algorithm(algorithm, {"records": records}, context=context) or [])
        outputs = run_algorithm_many(algorithm, [{"record": r} for r in records], context=context)
    elif _runs_in_runner(translator):
        outputs = _runner_values(translator, {"job": "map", "mapping": translator.mapping}, records)
    else:
        compiled = compile_translator(translator)
        if compiled is None:
            return [dict(record) for record in records]
        return [compiled.apply(record) for record in records]
    translated: list = []
    for output in outputs:
        translated.extend(output if isinstance(output, list) else [output])
    return translated


def render_bodies(translator, records: list[dict], *, context=None) -> list[Any]:
    """Export bodies: one per record, or one for the lot (a bulk translator)."""
    if translator.style == "template":
        job = {"job": "render", **_template(translator)}
        return _runner_values(translator, job, records, lots=not translator.bulk)
    if translator.style == "python":
        algorithm = _algorithm(translator)
        if translator.bulk:
            return [run_algorithm(algorithm, {"records": records}, context=context)]
        return run_algorithm_many(algorithm, [{"record": r} for r in records], context=context)
    if _runs_in_runner(translator):
        mapped = _runner_values(translator, {"job": "map", "mapping": translator.mapping}, records)
    else:
        compiled = compile_translator(translator)
        mapped = records if compiled is None else [compiled.apply(r) for r in records]
    return [mapped] if translator.bulk else mapped
