"""What a task does, by kind: run a flow, or run an algorithm."""

from __future__ import annotations

from typing import Any

from ..models import Task
from .algorithms import run_algorithm
from .flows import run_flow


def execute_task(task: Task, context) -> Any:
    if task.kind == Task.Kind.FLOW:
        if task.flow is None:
            raise LookupError("The task's flow was deleted.")
        return run_flow(task.flow, context, keys=task.input.get("keys"))
    if task.kind == Task.Kind.ALGORITHM:
        if task.algorithm is None:
            raise LookupError("The task's algorithm was deleted.")
        return run_algorithm(task.algorithm, task.input.get("arguments") or {}, context=context)
    raise ValueError(f"Tasks of kind {task.kind!r} are not run by the engine.")
