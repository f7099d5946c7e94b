"""What run_flow and run_algorithm share: finding the element, printing the task."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from ...engine.references import UnknownReference, resolve


def find(model, reference: str):
    if "." not in reference:
        raise CommandError(f"{reference!r}: write NAMESPACE.NAME")
    try:
        return resolve(model, reference)
    except UnknownReference as error:
        raise CommandError(str(error)) from None


def task_json(task) -> str:
    return json.dumps(
        {
            "task": task.pk,
            "status": task.status,
            "result": task.result,
            "errors": [n.message for n in task.notifications.filter(level="error")],
        },
        default=str,
    )
