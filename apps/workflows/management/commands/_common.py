"""What run_flow and run_algorithm share: finding the element, printing the task."""

from __future__ import annotations

import contextlib
import json
import logging

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


@contextlib.contextmanager
def quiet_task_log():
    """While a --sync run goes: the runner's log lines stay out of the terminal, whose
    one line of error the command prints itself (the execution keeps the details)."""
    runner = logging.getLogger("apps.workflows.engine.runner")
    level = runner.level
    runner.setLevel(logging.ERROR)
    try:
        yield
    finally:
        runner.setLevel(level)


def failure(task) -> str:
    """One line: what failed and why (the last attempt's error)."""
    execution = task.executions.order_by("-attempt").first()
    why = " ".join((execution.error if execution else "").split()) or "no error recorded"
    return f"{task.description or 'task'} {task.status} (task #{task.pk}): {why}"
