"""The one place where record writes become flow runs.

Both a single ORM save of a record (``post_save``) and a batch of the records
service (``records_saved``) arrive here. The dispatcher finds the active
observers of the data type, evaluates their conditions (or trigger evaluator)
against each record and its previous state, and enqueues each matching flow
once per lot of records (one Task and one Celery job per lot, not per record).

The records service calls it inside a batch's transaction for the observers
that judge by conditions (the tasks are stored with the records, in one commit,
and their jobs are sent once it commits), and after it for those with a trigger
evaluator (user code, in a runner): no batch's transaction waits on user code.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby

from apps.data.definitions import cached
from apps.data.models import DataType

from ..models import Event, Flow

# Set while a flow with "discard events" writes: its writes fire no observer.
_discarding = contextvars.ContextVar("discarding_events", default=False)


@contextmanager
def events_discarded(discard: bool = True) -> Iterator[None]:
    token = _discarding.set(discard or _discarding.get())
    try:
        yield
    finally:
        _discarding.reset(token)


def dispatch(
    *,
    data_type: DataType,
    created: list[tuple[str, dict]],
    updated: list[tuple[str, dict, dict]],
    observers: str = "all",
) -> int:
    """Evaluate the observers of ``data_type`` (``observers``: "plain", those judging by
    conditions only; "judged", those with a trigger evaluator; or "all"); return how many
    tasks were enqueued."""
    if _discarding.get():
        return 0
    # Most batches of an import have no observer: the cache says so with one query of one
    # row (building the observers' query each time cost an import 8% of its time).
    flows = cached(("observed flows", data_type.pk), lambda: observed_flows(data_type))
    if not flows:
        return 0
    if observers != "all":
        judging = observers == "judged"
        flows = [f for f in flows if bool(f.event and f.event.trigger_evaluator_id) == judging]
    return _enqueue_fired(flows, created, updated) if flows else 0


def _enqueue_fired(
    flows: list[Flow], created: list[tuple[str, dict]], updated: list[tuple[str, dict, dict]]
) -> int:
    from ..services import flow_enqueue
    from .observers import firing

    enqueued = 0
    for _, group in groupby(flows, key=lambda flow: flow.event_id):
        observed = list(group)
        observer = observed[0].event
        assert observer is not None  # the query selects flows of observers
        items: list[tuple[str, dict, dict | None]] = []
        if observer.on_created:
            items += [(key, data, None) for key, data in created]
        if observer.on_updated:
            items += updated
        keys = firing(observer, items)
        for flow in observed:
            for start in range(0, len(keys), flow.lot_size):
                flow_enqueue(
                    flow=flow,
                    keys=keys[start : start + flow.lot_size],
                    reason=f"observer {observer}",
                    follow_on=True,
                )
                enqueued += 1
    return enqueued


def observed_flows(data_type: DataType) -> list[Flow]:
    """The active flows of the active observers of ``data_type``, with what the trigger
    evaluation and the tasks' descriptions read, grouped by observer."""
    return list(
        Flow.objects.filter(active=True, event__in=Event.objects.observers_of(data_type))
        .select_related("event__trigger_evaluator", "event__namespace", "namespace")
        .order_by("event__namespace__name", "event__name", "event_id", "namespace__name", "name")
    )
