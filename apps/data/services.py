"""The records service: every write of records goes through here.

Records are validated with the data type's compiled schema (compiled once per
schema version), and valid ones are upserted by key in bulk, one transaction
per batch. Records identical to what is stored are left alone: re-importing
the same data writes nothing and wakes no observer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from . import jsonbounds, upsert
from .models import RECORD_KEY_MAX_LENGTH, DataType, Namespace, Record
from .permissions import reference_problems
from .signals import RecordsSaved, records_saved
from .validation import CompiledSchema, RecordProblem, check_schema_depth, compiled_schema


@dataclass
class RecordError:
    """A record the service refused, with its position in the input."""

    index: int
    key: str | None
    problems: list[RecordProblem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "key": self.key,
            "errors": [problem.as_dict() for problem in self.problems],
        }

    def __str__(self) -> str:
        where = f"record #{self.index}" + (f" (key {self.key!r})" if self.key else "")
        return f"{where}: " + "; ".join(f"{p.path}: {p.message}" for p in self.problems)


@dataclass
class SaveResult:
    """Counts of what a call stored, and the records it refused."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Records that a later one with the same key replaced within one batch of the call
    # (RECORDS_BATCH_SIZE; the last one is stored): a list of 3 that creates 2 says why.
    duplicates: int = 0
    errors: list[RecordError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "invalid": len(self.errors),
            "errors": [error.as_dict() for error in self.errors],
        }


def validator_for(data_type: DataType) -> CompiledSchema:
    return compiled_schema(
        data_type.schema, data_type.schema_digest or data_type.digest(data_type.schema)
    )


KEY_FAST_MAX = 64  # characters: well under RECORD_KEY_MAX_LENGTH for any encoding


def record_key(data_type: DataType, data: Any) -> tuple[str | None, RecordProblem | None]:
    """The key of a record: the value of its primary key field, as text."""
    if not isinstance(data, dict):
        return None, RecordProblem(
            "$", f"a record must be a JSON object, not {type(data).__name__}"
        )
    field_name = data_type.primary_key
    if not field_name:
        return uuid.uuid4().hex, None
    value = data.get(field_name)
    if (value is None or value == "") and data_type.new_key_prefix:
        value = data[field_name] = f"{data_type.new_key_prefix}{uuid.uuid4().hex}"
    if value is None or value == "":
        return None, RecordProblem(f"$.{field_name}", f"the primary key {field_name!r} is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, RecordProblem(
            f"$.{field_name}", f"the primary key must be a string or an integer, not {value!r}"
        )
    key = str(value)
    if len(key) > RECORD_KEY_MAX_LENGTH:
        return None, RecordProblem(
            f"$.{field_name}", f"the primary key is longer than {RECORD_KEY_MAX_LENGTH} characters"
        )
    return key, None


def text_problem(data: Any) -> RecordProblem | None:
    """A record that could not be stored and read back as UTF-8 JSON (a lone surrogate)."""
    message = jsonbounds.surrogate_problem(data)
    return RecordProblem("$", message) if message else None


def record_check(*, data_type: DataType, data: Any) -> str:
    """Validate one record; return its key or raise ValidationError listing the problems."""
    key, problem = record_key(data_type, data)
    problem = problem or text_problem(data)
    problems = [problem] if problem else []
    validator = validator_for(data_type)
    if not problems and isinstance(data, dict) and not validator.is_valid(data):
        problems.extend(validator.explain(data))
    if problems:
        raise ValidationError(
            [
                ValidationError("%(path)s: %(message)s", code="invalid_record", params=p.as_dict())
                for p in problems
            ]
        )
    assert key is not None
    return key


def record_save(*, data_type: DataType, data: Any, key: str | None = None) -> tuple[Record, bool]:
    """Validate and save one record; the observers of its data type, trigger evaluators
    included, are evaluated in its transaction (``records_saved``).

    ``key`` names the record to replace; the data's own primary key must then match it.
    """
    data_key = record_check(data_type=data_type, data=data)
    if key is not None and data_type.primary_key and data_key != key:
        raise ValidationError(
            "$.%(field)s: the primary key %(new)r differs from the record's key %(old)r",
            code="key_mismatch",
            params={"field": data_type.primary_key, "new": data_key, "old": key},
        )
    key = key or data_key
    with transaction.atomic():
        record, previous = upsert.write_one(data_type.pk, key, data)
        record.data_type = data_type
        created = previous is None
        if created or previous != data:
            # Observers fire in this transaction: the record and the tasks it starts
            # are stored together (the tasks are enqueued once it commits).
            event = RecordsSaved(
                data_type=data_type,
                source="record",
                created=[(key, data)] if created else [],
                updated=[] if created else [(key, data, previous)],
            )
            records_saved.send(sender=DataType, event=event)
    return record, created


def record_delete(*, record: Record) -> None:
    record.delete()


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def records_save(
    *,
    data_type: DataType,
    records: Iterable[Any],
    batch_size: int | None = None,
    source: str = "",
) -> SaveResult:
    """Validate and upsert records by key, in batches; return what happened.

    Invalid records are reported (index, key, JSON path, reason) and skipped;
    valid ones are stored. Each batch is one transaction and, when it created
    or changed anything, one ``records_saved`` event. Memory grows with the
    batch size, not with the number of records (``records`` may be a generator).
    """
    size = batch_size or settings.RECORDS_BATCH_SIZE
    validator = validator_for(data_type)
    result = SaveResult()
    offset = 0
    for batch in _batches(records, size):
        valid: dict[str, dict] = {}  # later duplicates of a key win
        # One look at the whole batch; record by record only when it holds a surrogate.
        suspect = jsonbounds.surrogate_problem(batch) is not None
        field_name = data_type.primary_key
        for index, data in enumerate(batch, start=offset):
            # The common case at once (an integer or a short text key, the type of a
            # JSON number or string exactly); anything else is judged by record_key.
            value = data.get(field_name) if field_name and type(data) is dict else None
            key: str | None
            problem: RecordProblem | None
            if type(value) is int or (type(value) is str and 0 < len(value) <= KEY_FAST_MAX):
                key, problem = str(value), None
            else:
                key, problem = record_key(data_type, data)
            if problem is None and suspect:
                problem = text_problem(data)
            if problem is not None:
                result.errors.append(RecordError(index, key, [problem]))
            elif not validator.is_valid(data):
                result.errors.append(RecordError(index, key, validator.explain(data)))
            else:
                assert key is not None  # record_key gives a key whenever it finds no problem
                if key in valid:
                    result.duplicates += 1
                valid[key] = data
        offset += len(batch)
        if valid:
            _upsert_batch(data_type, valid, result, source)
    return result


def _upsert_batch(
    data_type: DataType, valid: dict[str, dict], result: SaveResult, source: str
) -> None:
    """Write one batch and tell the observers (``records_saved``): those judging by
    conditions in its transaction (the records and the tasks they start commit together,
    in one commit), those with a trigger evaluator (user code) after it."""
    with transaction.atomic():
        outcome = upsert.write_batch(data_type.pk, valid)
        event = RecordsSaved(
            data_type=data_type,
            source=source,
            created=[(key, valid[key]) for key in outcome.created],
            updated=[(key, valid[key], old) for key, old in outcome.updated],
            observers="plain",
        )
        if event.created or event.updated:
            records_saved.send(sender=DataType, event=event)
    if event.created or event.updated:
        records_saved.send(sender=DataType, event=replace(event, observers="judged"))
    result.created += len(outcome.created)
    result.updated += len(outcome.updated)
    result.unchanged += outcome.unchanged


# --- setup elements --------------------------------------------------------------


def namespace_get_or_create(*, name: str, title: str = "") -> Namespace:
    namespace, _ = Namespace.objects.get_or_create(name=name, defaults={"title": title})
    return namespace


def data_type_save(
    *,
    namespace: Namespace,
    name: str,
    schema: dict,
    primary_key: str = "id",
    title: str = "",
    new_key_prefix: str = "",
    instance: DataType | None = None,
) -> DataType:
    """Create or change a data type; the schema is checked before anything is written."""
    check_schema_depth(schema)  # before field validation recurses into it
    if instance is not None and instance.pk:
        stored = DataType.objects.filter(pk=instance.pk).values_list("primary_key", flat=True)
        before = stored.first()
        held = Record.objects.filter(data_type_id=instance.pk).count() if before else 0
        if before is not None and before != primary_key and held:
            raise ValidationError(
                {"primary_key": f"{instance} holds {held} record(s) keyed by {before!r}: with "
                 "another primary key the same records would be stored again under new keys. "
                 "Delete its records first (DELETE /api/v2/<namespace>/<type>/?all=1), or "
                 "make a new data type."},
                code="key_in_use",
            )  # fmt: skip
    data_type = instance or DataType(namespace=namespace)
    data_type.namespace = namespace
    data_type.name = name
    data_type.title = title
    data_type.schema = schema
    data_type.primary_key = primary_key
    data_type.new_key_prefix = new_key_prefix
    data_type.full_clean(exclude=["schema_digest"])
    data_type.save()
    return data_type


def element_save(element: Any, fields: dict[str, Any], *, skip=None, actor=None) -> Any:
    """Set ``fields`` on a setup element, validate it (model rules included) and save it.

    The one write path of every app's setup elements: nothing invalid is stored,
    and many-to-many fields are set once the element has an id. References to
    other namespaces must be allowed for ``actor``, the user saving (None: the
    platform itself; :func:`apps.data.permissions.references_check`). ``skip(field,
    value)`` may leave a field as it is (the security app keeps a stored secret
    when None is given for it).
    """
    meta = element._meta
    concrete = {f.name: f for f in meta.concrete_fields if f.editable}
    many = {f.name for f in meta.many_to_many}
    unknown = set(fields) - set(concrete) - many
    if unknown:
        raise TypeError(f"{type(element).__name__} has no field(s) {sorted(unknown)}")
    for name, value in fields.items():
        if name in concrete and not (skip and skip(concrete[name], value)):
            setattr(element, name, value)
    errors: dict[str, list] = {}
    try:
        element.full_clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)  # type: ignore[arg-type]
    if "namespace" not in errors:  # references are compared with the element's namespace
        values = {name: list(fields[name]) for name in many & set(fields)}
        for name, messages in reference_problems(element, actor=actor, values=values).items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        element.save()
        for name in many & set(fields):
            getattr(element, name).set(fields[name])
    return element


# --- schema changes -------------------------------------------------------------------

FIT_CHECK_LIMIT = 100_000  # stored records a schema change looks at, at most


def schema_change_warning(data_type: DataType, *, limit: int = FIT_CHECK_LIMIT) -> str:
    """After a schema change: how many stored records no longer fit it ("" when all do),
    with the first one's problem. They stay as stored; a write of one is checked anew."""
    validator = validator_for(data_type)
    checked = misfits = 0
    first = ""
    rows = Record.objects.filter(data_type=data_type).order_by("pk").values_list("key", "data")
    for key, data in rows[:limit].iterator(chunk_size=2000):
        checked += 1
        if not validator.is_valid(data):
            misfits += 1
            if not first:
                problem = validator.explain(data)[0]
                first = f"key {key}: {problem.path}: {problem.message}"
    if not misfits:
        return ""
    total = Record.objects.filter(data_type=data_type).count() if checked == limit else checked
    scope = f"{misfits} of {checked}" + (f" checked (of {total})" if total > checked else "")
    return (
        f"{scope} stored record(s) of {data_type} no longer fit its schema (first: {first}). "
        "They stay as they are; writing one again checks it against the new schema."
    )
