"""The dispatcher: what a batch of writes starts, cached until the definitions change;
flows are batched by lot."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.data.services import records_save
from apps.workflows.engine.dispatcher import dispatch
from apps.workflows.models import Flow, Observer, Task

RECORDS = [{"id": i, "first": f"F{i}", "status": "new" if i % 2 else "paid"} for i in range(7)]


def selects(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT")]


def test_a_type_nobody_observes_costs_one_query(contact, queries_and_token_reads):
    """Once its (empty) observers are known: one query, of the definitions token."""
    assert dispatch(data_type=contact, created=[("1", {"id": 1})], updated=[]) == 0
    with queries_and_token_reads() as (queries, reads):
        assert dispatch(data_type=contact, created=[("2", {"id": 2})], updated=[]) == 0
    assert len(reads) == 1 and reads[0]
    assert queries == []


def test_an_observer_added_after_the_cache_was_filled_fires(make, contact, converter):
    assert dispatch(data_type=contact, created=[("1", {"id": 1})], updated=[]) == 0
    every = make(Observer, "every", kind="observer", data_type=contact)
    flow = make(Flow, "convert", event=every, translator=converter)
    assert dispatch(data_type=contact, created=[("1", {"id": 1})], updated=[]) == 1
    flow.active = False
    flow.save()
    assert dispatch(data_type=contact, created=[("1", {"id": 1})], updated=[]) == 0


def test_each_active_flow_of_each_active_observer_gets_its_lots(make, contact, converter):
    every = make(Observer, "every", kind="observer", data_type=contact)
    paid = make(Observer, "paid", kind="observer", data_type=contact,
                conditions=[{"field": "status", "op": "is", "value": "paid"}])  # fmt: skip
    idle = make(Observer, "idle", kind="observer", data_type=contact, active=False)
    make(Flow, "a_every", event=every, translator=converter, lot_size=3)
    make(Flow, "b_every", event=every, translator=converter, lot_size=10)
    make(Flow, "off", event=every, translator=converter, active=False)
    make(Flow, "c_paid", event=paid, translator=converter, lot_size=2)
    make(Flow, "d_idle", event=idle, translator=converter)
    with CaptureQueriesContext(connection) as queries:
        records_save(data_type=contact, records=RECORDS)
    lots = {}
    for task in Task.objects.order_by("pk"):
        lots.setdefault(task.flow.name, []).append(task.input["keys"])
    assert lots == {
        "a_every": [["0", "1", "2"], ["3", "4", "5"], ["6"]],
        "b_every": [["0", "1", "2", "3", "4", "5", "6"]],
        "c_paid": [["0", "2"], ["4", "6"]],
    }
    assert Task.objects.get(flow__name="c_paid", input__keys=["0", "2"]).description == (
        "Flow crm.c_paid (observer crm.paid)"
    )
    # The flows of every observer: one SELECT, whatever their number (then cached).
    assert len([sql for sql in selects(queries) if "workflows_" in sql]) == 1
    with CaptureQueriesContext(connection) as queries:
        records_save(data_type=contact, records=[{"id": 7, "first": "F7", "status": "new"}])
    assert not [sql for sql in selects(queries) if "workflows_" in sql]


def test_tasks_are_stored_in_the_write_transaction_and_evaluators_judge_after_it(
    make, contact, converter, algorithm
):
    """A batch's observers that judge by conditions start their tasks in the batch's
    transaction (one commit, nothing lost in between); those with a trigger evaluator (user
    code) are evaluated after it, so that no transaction waits on a runner, and still fire
    for what their code accepts. A single record's save evaluates all in its transaction."""
    from django.db import transaction

    from apps.data.services import record_save
    from apps.data.signals import records_saved

    plain = make(Observer, "plain", kind="observer", data_type=contact)
    make(Flow, "by_conditions", event=plain, translator=converter)
    even = algorithm("even", "return record['id'] % 2 == 0", ["record", "previous"])
    judged = make(Observer, "judged", kind="observer", data_type=contact, trigger_evaluator=even)
    make(Flow, "by_evaluator", event=judged, translator=converter)
    seen = []

    def spy(event, **kwargs):  # what is stored when each part of the observers is told
        tasks = sorted(Task.objects.values_list("flow__name", flat=True))
        seen.append((event.observers, len(connection.atomic_blocks) - depth, tasks))

    records_saved.connect(spy, weak=False, dispatch_uid="spy")
    try:
        depth = len(connection.atomic_blocks)
        records_save(data_type=contact, records=RECORDS[:3])
        # The spy is told after the dispatcher: the tasks of each part, and where.
        assert seen == [
            ("plain", 1, ["by_conditions"]),  # in the batch's transaction
            ("judged", 0, ["by_conditions", "by_evaluator"]),  # after it
        ]
        after = {t.flow.name: t.input["keys"] for t in Task.objects.all()}
        assert after == {"by_conditions": ["0", "1", "2"], "by_evaluator": ["0", "2"]}
        seen.clear()
        record_save(data_type=contact, data=RECORDS[4])
        assert [(observers, inside) for observers, inside, _ in seen] == [("all", 1)]
        assert Task.objects.filter(input__keys=["4"], flow__name="by_evaluator").exists()
    finally:
        records_saved.disconnect(dispatch_uid="spy")
    # A write rolled back starts nothing.
    Task.objects.all().delete()
    try:
        with transaction.atomic():
            records_save(data_type=contact, records=RECORDS[5:7])
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert not Task.objects.exists()
