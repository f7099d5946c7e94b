"""Translators compiled once per definition, and applied to records.

``apps.workflows.translation`` does the work (JMESPath/Jinja2 mappings,
sandboxed templates, body parsing); this module caches what a Translator row
compiles to and turns translation errors into validation errors on save.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from django.core.exceptions import ValidationError

from ..translation import Mapping, Template, TranslationError, compile_mapping, compile_template

_cache: OrderedDict[str, Any] = OrderedDict()
_lock = threading.Lock()


def _key(translator) -> str:
    return json.dumps(
        [
            translator.style,
            translator.mapping,
            translator.template,
            translator.mime_type,
            translator.bulk,
        ],
        sort_keys=True,
        default=str,
    )


def compile_translator(translator) -> Any:
    """The compiled mapping or template (None for the python style)."""
    if translator.style == "python":
        return None
    key = _key(translator)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    compiled: Mapping | Template | None
    try:
        if translator.style == "mapping":
            if not isinstance(translator.mapping, dict):
                raise ValidationError({"mapping": "A JSON object: target field → expression."})
            compiled = compile_mapping(translator.mapping) if translator.mapping else None
        else:
            compiled = compile_template(
                translator.template, mime_type=translator.mime_type, bulk=translator.bulk
            )
    except TranslationError as error:
        field = "mapping" if translator.style == "mapping" else "template"
        raise ValidationError({field: str(error)}) from None
    with _lock:
        _cache[key] = compiled
        while len(_cache) > 256:
            _cache.popitem(last=False)
    return compiled


def translate_record(translator, record: dict, *, context=None) -> Any:
    """One record through a mapping or python translator (conversion, update, import)."""
    if translator.style == "python":
        from .algorithms import run_algorithm

        return run_algorithm(translator.algorithm, {"record": record}, context=context)
    compiled = compile_translator(translator)
    return dict(record) if compiled is None else compiled.apply(record)


def render_records(translator, records: list[dict], *, context=None) -> list[Any]:
    """Export bodies: one per record, or one for the lot with a bulk template."""
    if translator.style == "template":
        template = compile_translator(translator)
        if translator.bulk:
            return [template.render_many(records)]
        return [template.render(record) for record in records]
    if translator.style == "python":
        from .algorithms import run_algorithm

        if translator.bulk:
            return [run_algorithm(translator.algorithm, {"records": records}, context=context)]
        return [
            run_algorithm(translator.algorithm, {"record": r}, context=context) for r in records
        ]
    compiled = compile_translator(translator)
    mapped = [record if compiled is None else compiled.apply(record) for record in records]
    return [mapped] if translator.bulk else mapped
