"""Batches big enough for PostgreSQL's COPY staging table: each batch stores exactly its
own rows, whether the batch is its own transaction, one of several in a caller's, or
comes after a transaction that created the staging table and rolled back."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.data.models import Record
from apps.data.services import data_type_save, namespace_get_or_create, records_save
from apps.data.upsert import COPY_THRESHOLD

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}}
N = COPY_THRESHOLD + 6


def records(start: int) -> list[dict]:
    return [{"id": i, "name": f"n{i}"} for i in range(start, start + N)]


@pytest.fixture
def thing():
    return data_type_save(namespace=namespace_get_or_create(name="stage"), name="T", schema=SCHEMA)


def stored(data_type) -> list[int]:
    return sorted(
        int(k) for k in Record.objects.filter(data_type=data_type).values_list("key", flat=True)
    )


def test_a_batch_after_a_rolled_back_one_is_stored(thing):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert records_save(data_type=thing, records=records(0)).created == N
        raise RuntimeError("the caller gives up: the staging table goes with the transaction")
    assert stored(thing) == []
    assert records_save(data_type=thing, records=records(0)).created == N
    assert records_save(data_type=thing, records=records(N)).created == N
    assert stored(thing) == list(range(2 * N))


def test_batches_in_one_transaction_store_each_their_own(thing):
    with transaction.atomic():
        result = records_save(data_type=thing, records=records(0) + records(N), batch_size=N)
    assert result.created == 2 * N
    assert stored(thing) == list(range(2 * N))
    changed = [{**r, "name": "changed"} for r in records(0)]
    assert records_save(data_type=thing, records=changed).updated == N
    assert Record.objects.filter(data_type=thing, data__name="changed").count() == N


def test_after_a_first_import_a_batch_of_new_changed_and_unchanged_rows_is_told_apart(thing):
    """A first import inserts its batches before comparing (PostgreSQL); a batch that then
    meets stored rows still says which were new, changed (with the old data for observers)
    and unchanged, and stores exactly the changes."""
    from apps.data.signals import records_saved

    assert records_save(data_type=thing, records=records(0)).created == N
    assert records_save(data_type=thing, records=records(N)).created == N  # inserted first
    changed = [{**r, "name": "changed"} for r in records(0)[:5]]
    mixed = records(2 * N)[:10] + changed + records(N)[: N - 15]
    events = []

    def keep(sender, event, **kwargs):
        events.append(event)

    records_saved.connect(keep)
    try:
        result = records_save(data_type=thing, records=mixed)
    finally:
        records_saved.disconnect(keep)
    assert (result.created, result.updated, result.unchanged) == (10, 5, N - 15)
    assert sorted(int(k) for k, _ in events[0].created) == list(range(2 * N, 2 * N + 10))
    assert [(k, old["name"], new["name"]) for k, new, old in events[0].updated] == [
        (str(i), f"n{i}", "changed") for i in range(5)
    ]
    assert stored(thing) == list(range(2 * N + 10))
    assert Record.objects.filter(data_type=thing, data__name="changed").count() == 5
    # and the next batch, all stored and unchanged, writes nothing
    assert records_save(data_type=thing, records=records(N)).unchanged == N
