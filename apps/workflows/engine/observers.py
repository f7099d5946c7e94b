"""Does an observer fire for this record? Conditions, or its trigger evaluator."""

from __future__ import annotations

import logging

from .conditions import all_hold

logger = logging.getLogger(__name__)


def fires(observer, record: dict, previous: dict | None) -> bool:
    if observer.trigger_evaluator_id:
        from .algorithms import run_algorithm

        try:
            return bool(
                run_algorithm(observer.trigger_evaluator, {"record": record, "previous": previous})
            )
        except Exception as error:  # a broken evaluator must not break the write
            from ..services import notify

            notify(
                namespace=observer.namespace,
                level="error",
                message=f"Trigger evaluator of observer {observer} failed: {error}",
            )
            return False
    return all_hold(observer.conditions, record, previous)
