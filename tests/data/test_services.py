"""The records service: validation, bulk upserts by key, batch events."""

import pytest
from django.core.exceptions import ValidationError

from apps.data.encoding import record_digest
from apps.data.models import DataType, Record
from apps.data.services import data_type_save, record_save, records_save
from apps.data.signals import records_saved

SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def contact(namespace) -> DataType:
    return data_type_save(namespace=namespace, name="Contact", schema=SCHEMA)


@pytest.fixture
def events():
    seen = []

    def receiver(sender, event, **kwargs):
        # Each batch's event is told twice: in its transaction, then after it for the
        # observers with a trigger evaluator (tests/workflows/test_dispatcher.py).
        if event.observers != "judged":
            seen.append(event)

    records_saved.connect(receiver, dispatch_uid="test-events")
    yield seen
    records_saved.disconnect(dispatch_uid="test-events")


def test_invalid_records_are_reported_and_valid_ones_stored(contact):
    result = records_save(
        data_type=contact,
        records=[
            {"id": 1, "name": "Ann"},
            {"id": 2, "name": "Bob", "address": {"city": 7}},
            {"name": "no key"},
            "not an object",
            {"id": 3, "name": "Cy"},
        ],
    )
    assert (result.created, result.updated, len(result.errors)) == (2, 0, 3)
    errors = {e.index: e.as_dict() for e in result.errors}
    assert errors[1]["key"] == "2"
    assert errors[1]["errors"][0]["path"] == "$.address.city"
    assert '7 is not of type "string"' in errors[1]["errors"][0]["message"]
    assert errors[2]["errors"][0] == {"path": "$.id", "message": "the primary key 'id' is missing"}
    assert "must be a JSON object" in errors[3]["errors"][0]["message"]
    assert sorted(Record.objects.values_list("key", flat=True)) == ["1", "3"]


def test_upsert_by_key_updates_changes_and_leaves_the_rest(contact, events):
    records_save(data_type=contact, records=[{"id": i, "name": f"n{i}"} for i in range(5)])
    first = Record.objects.get(key="1")
    result = records_save(
        data_type=contact,
        records=[{"id": 1, "name": "changed"}, {"id": 2, "name": "n2"}, {"id": 9, "name": "new"}],
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert Record.objects.count() == 6
    again = Record.objects.get(key="1")
    assert again.data["name"] == "changed" and again.pk == first.pk
    assert again.created_at == first.created_at and again.updated_at > first.updated_at
    last = events[-1]
    assert last.created == [("9", {"id": 9, "name": "new"})]
    assert last.updated == [("1", {"id": 1, "name": "changed"}, {"id": 1, "name": "n1"})]


def test_one_event_per_batch_and_none_when_nothing_changed(contact, events):
    records = [{"id": i, "name": "x"} for i in range(25)]
    records_save(data_type=contact, records=records, batch_size=10)
    assert [len(e.created) for e in events] == [10, 10, 5]
    events.clear()
    result = records_save(data_type=contact, records=records, batch_size=10)
    assert result.unchanged == 25 and events == []


def test_duplicate_keys_in_one_call_keep_the_last(contact):
    result = records_save(
        data_type=contact, records=[{"id": 1, "name": "first"}, {"id": 1, "name": "last"}]
    )
    assert result.created == 1 and result.duplicates == 1
    assert Record.objects.get(key="1").data["name"] == "last"


def test_schema_change_recompiles_the_validator(contact):
    assert records_save(data_type=contact, records=[{"id": 1, "name": "a", "x": 1}]).created == 1
    data_type_save(
        namespace=contact.namespace,
        name="Contact",
        schema={**SCHEMA, "additionalProperties": False},
        instance=contact,
    )
    contact.refresh_from_db()
    assert contact.schema_version == 2
    result = records_save(data_type=contact, records=[{"id": 2, "name": "b", "x": 1}])
    assert result.created == 0 and "Additional properties" in result.errors[0].problems[0].message


def test_invalid_schema_is_refused_and_nothing_changes(contact):
    with pytest.raises(ValidationError, match=r"schema\['properties'\]\['id'\]\['type'\]"):
        data_type_save(
            namespace=contact.namespace,
            name="Contact",
            schema={"properties": {"id": {"type": "int"}}},
            instance=contact,
        )
    assert DataType.objects.get(pk=contact.pk).schema == SCHEMA


def test_single_save_validates_and_fires_records_saved(contact):
    fired = []

    def receiver(event, **kwargs):
        fired.append((event.created, event.updated))

    records_saved.connect(receiver, weak=False, dispatch_uid="t")
    try:
        record, created = record_save(data_type=contact, data={"id": 5, "name": "Eve"})
        assert created and record.key == "5" and record.pk and record.created_at
        assert record.digest == Record.objects.get(pk=record.pk).digest  # as stored
        _, created = record_save(data_type=contact, data={"id": 5, "name": "Eva"}, key="5")
        assert not created
        # Saved again unchanged: nothing fires.
        record_save(data_type=contact, data={"id": 5, "name": "Eva"}, key="5")
        assert fired == [
            ([("5", {"id": 5, "name": "Eve"})], []),
            ([], [("5", {"id": 5, "name": "Eva"}, {"id": 5, "name": "Eve"})]),
        ]
        with pytest.raises(ValidationError, match=r'\$\.name: 3 is not of type "string"'):
            record_save(data_type=contact, data={"id": 5, "name": 3}, key="5")
        stored = Record.objects.get(key="5")
        assert stored.data["name"] == "Eva" and stored.created_at == record.created_at
    finally:
        records_saved.disconnect(dispatch_uid="t")


def test_repeated_single_saves_are_prepared_and_stay_right_on_postgresql(contact):
    """The engine's statements are prepared once run five times on a connection
    (DATABASE_PREPARE_THRESHOLD): every save after that still stores and reports its
    own record."""
    from django.conf import settings
    from django.db import connection

    for i in range(8):
        record, created = record_save(data_type=contact, data={"id": i % 2, "name": f"n{i}"})
        assert created == (i < 2) and record.data["name"] == f"n{i}"
    assert sorted(Record.objects.values_list("key", "data__name")) == [("0", "n6"), ("1", "n7")]
    if connection.vendor != "postgresql":
        # Prepared statements are PostgreSQL's; SQLite's module caches its own.
        assert "prepare_threshold" not in settings.DATABASES["default"].get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["WITH old AS (SELECT%"],
        )
        assert cursor.fetchone()[0] == 1


def test_data_type_without_primary_key_generates_keys(namespace):
    log = data_type_save(namespace=namespace, name="Log", schema={"type": "object"}, primary_key="")
    result = records_save(data_type=log, records=[{"m": 1}, {"m": 1}])
    assert result.created == 2
    assert len(set(Record.objects.values_list("key", flat=True))) == 2


# --- digests: how a re-import tells unchanged records without reading them


def test_every_write_stores_the_digest_of_the_data(contact):
    records_save(data_type=contact, records=[{"id": 1, "name": "bulk"}])
    record = Record.objects.get(key="1")
    assert record.digest == record_digest({"id": 1, "name": "bulk"})
    record_save(data_type=contact, data={"id": 1, "name": "single"}, key="1")
    assert Record.objects.get(key="1").digest == record_digest({"id": 1, "name": "single"})
    record.data = {"id": 1, "name": "orm"}
    record.save(update_fields=["data"])
    assert Record.objects.get(key="1").digest == record_digest({"id": 1, "name": "orm"})


def test_data_changed_by_a_queryset_update_is_not_taken_for_unchanged(contact):
    records_save(data_type=contact, records=[{"id": 1, "name": "imported"}])
    Record.objects.filter(key="1").update(data={"id": 1, "name": "edited in bulk"})
    result = records_save(data_type=contact, records=[{"id": 1, "name": "imported"}])
    assert (result.updated, result.unchanged) == (1, 0)
    assert Record.objects.get(key="1").data == {"id": 1, "name": "imported"}


def test_a_record_changed_elsewhere_and_imported_back_is_an_update(contact, events):
    """A single save between two imports changes the digest: the second import is a change."""
    records_save(data_type=contact, records=[{"id": 1, "name": "imported"}])
    record_save(data_type=contact, data={"id": 1, "name": "edited"}, key="1")
    events.clear()
    result = records_save(data_type=contact, records=[{"id": 1, "name": "imported"}])
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    assert Record.objects.get(key="1").data == {"id": 1, "name": "imported"}
    assert events[0].updated == [("1", {"id": 1, "name": "imported"}, {"id": 1, "name": "edited"})]


def test_unchanged_records_are_neither_written_nor_announced(contact, events):
    records = [{"id": i, "name": f"n{i}", "address": {"city": "Lima"}} for i in range(100)]
    records_save(data_type=contact, records=records)
    stamps = dict(Record.objects.values_list("key", "updated_at"))
    events.clear()
    changed = [*records[:99], {**records[99], "address": {"city": "Quito"}}]
    result = records_save(data_type=contact, records=changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 99)
    after = dict(Record.objects.values_list("key", "updated_at"))
    assert [key for key in after if after[key] != stamps[key]] == ["99"]
    assert [key for key, _, _ in events[0].updated] == ["99"]


def test_rows_without_a_digest_or_in_another_key_order_are_compared_by_their_data(contact, events):
    """Rows stored before digests existed have none; a record may come in another key order."""
    records_save(data_type=contact, records=[{"id": i, "name": f"n{i}"} for i in range(3)])
    Record.objects.update(digest="")
    stamps = dict(Record.objects.values_list("key", "updated_at"))
    events.clear()
    result = records_save(
        data_type=contact,
        records=[{"id": 0, "name": "n0"}, {"name": "n1", "id": 1}, {"id": 2, "name": "new"}],
    )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert [(e.created, e.updated) for e in events] == [
        ([], [("2", {"id": 2, "name": "new"}, {"id": 2, "name": "n2"})])
    ]
    after = dict(Record.objects.values_list("key", "updated_at"))
    assert after["0"] == stamps["0"] and after["1"] == stamps["1"]
    assert Record.objects.get(key="2").digest == record_digest({"id": 2, "name": "new"})
