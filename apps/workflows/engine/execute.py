"""What a task does, by kind: run a flow, or run an algorithm."""

from __future__ import annotations

from typing import Any

from apps.data.models import DataType
from apps.data.permissions import use_check
from apps.data.services import records_save

from ..models import Flow, Task
from .algorithms import run_algorithm
from .flows import run_flow


def execute_task(task: Task, context) -> Any:
    if task.kind == Task.Kind.FLOW:
        if task.flow is None:
            raise LookupError("The task's flow was deleted.")
        flow_uses_check(task.flow)
        return run_flow(task.flow, context, keys=task.input.get("keys"))
    if task.kind == Task.Kind.ALGORITHM:
        if task.algorithm is None:
            raise LookupError("The task's algorithm was deleted.")
        return run_algorithm(task.algorithm, task.input.get("arguments") or {}, context=context)
    if task.kind == Task.Kind.DATA_IMPORT:
        return _import_records(task, context)
    raise ValueError(f"Tasks of kind {task.kind!r} are not run by the engine.")


def flow_uses_check(flow: Flow) -> None:
    """Before a flow runs: every element of another namespace that it uses, directly
    or through its translators, event and connection role, is one the namespace rule
    allows (the gateway checks connections and authorizations when it calls)."""
    parts = [flow, flow.translator, flow.algorithm, flow.response_translator, flow.connection_role,
             flow.event]  # fmt: skip
    for element in parts:
        use_check(element)


def _import_records(task: Task, context) -> dict[str, Any]:
    data_type = DataType.objects.select_related("namespace").get(pk=task.input["data_type"])
    records = task.input.get("records") or []
    result = records_save(data_type=data_type, records=records, source="api-async")
    if result.errors:
        context.notify(
            f"{len(result.errors)} of {len(records)} record(s) did not fit {data_type} and were "
            f"not stored; first: {result.errors[0]}",
            level="warning",
            attachment=[error.as_dict() for error in result.errors[:100]],
        )
    # The records are stored now: keep their count, not a second copy of them.
    Task.objects.filter(pk=task.pk).update(
        input={"data_type": data_type.pk, "records": len(records)}
    )
    summary = result.as_dict()
    summary["errors"] = summary["errors"][:100]
    return summary
