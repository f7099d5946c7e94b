"""Which records of a write make an observer fire: its conditions, or its trigger evaluator.

A trigger evaluator is user code: it runs in a runner, once per record, all
the records of a write in one job, for the records that meet the observer's
conditions (when it has any: they are cheap, and spare the runner most
records). One that fails for a record does not break the write: the record
does not fire, and the observer's namespace gets one notification per batch
saying why.
"""

from __future__ import annotations

import logging

from .conditions import all_hold

logger = logging.getLogger(__name__)


def firing(observer, items: list[tuple[str, dict, dict | None]]) -> list[str]:
    """The keys of the ``(key, record, previous)`` items that make ``observer`` fire."""
    if observer.conditions:  # with an evaluator too, the conditions filter what it is asked
        conditions = observer.conditions
        items = [item for item in items if all_hold(conditions, item[1], item[2])]
    if not items:
        return []
    if not observer.trigger_evaluator_id:
        return [key for key, _, _ in items]
    from .algorithms import run_algorithm_many

    try:
        results = run_algorithm_many(
            observer.trigger_evaluator,
            [{"record": record, "previous": previous} for _, record, previous in items],
            collect=True,
        )
    except Exception as error:  # a broken evaluator must not break the write
        results = [error] * len(items)
    failures = [result for result in results if isinstance(result, Exception)]
    if failures:
        from ..services import notify

        notify(
            namespace=observer.namespace,
            level="error",
            message=f"Trigger evaluator of observer {observer} failed for {len(failures)} "
            f"record(s): {failures[0]}",
        )
    return [
        key
        for (key, _, _), result in zip(items, results, strict=True)
        if not isinstance(result, Exception) and bool(result)
    ]
