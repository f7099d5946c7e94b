"""What the configuration looks like now, cached per process until it changes.

The hot paths read the same definitions over and over: every record write asks
which observers and flows of its data type may fire, every task reads its flow
with its translator, webhook and data types. Those change rarely (a user edits
an element), records change all the time. So every write of an element
(namespace, data type, and every element model: translators, flows, webhooks,
authorizations…) replaces one random *token* in the ``data_definitions`` row,
in the writing transaction, and a process keeps what it built from the
definitions under the token it read first:

    flows = cached(("observers", data_type.pk), lambda: build(data_type))

One query of one row tells whether the cache still holds (a change committed by
any process, the admin's or a worker's, is seen by the next read). A random
token rather than a counter: a rolled-back change (a test's transaction, a
failed save) brings the old token back with the old definitions, which is
right; a counter would come back to a number a process already used for
definitions that were rolled back. No row (a flushed database) means no
caching: every read builds afresh.

Writes that go around the signals (``QuerySet.update``, ``bulk_create``, raw
SQL) must call :func:`definitions_changed` themselves.
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

T = TypeVar("T")

_lock = threading.Lock()
_token: str | None = None
_entries: dict[Hashable, Any] = {}

_UNREAD = object()
# Within one unit of work (a records request, a task): the token read once for all of it.
_unit: contextvars.ContextVar[list | None] = contextvars.ContextVar("definitions", default=None)


# A unit of work running longer (an import) reads the token again after this many seconds:
# an observer added meanwhile fires for what it writes from then on.
UNIT_SECONDS = 1.0


@contextmanager
def one_read(token: Any = _UNREAD) -> Iterator[None]:
    """Within: :func:`cached` lookups use one token, read at the first (or given), for up
    to UNIT_SECONDS; then it is read again.

    For work that does not change definitions itself (a records request, a task's run;
    if it does, the token is read again after the change)."""
    reset = _unit.set([token, time.monotonic()])
    try:
        yield
    finally:
        _unit.reset(reset)


def definitions_token() -> str | None:
    """The token of the definitions as this connection sees them (None: no row)."""
    unit = _unit.get()
    if unit is None:
        return _read_token()
    if unit[0] is _UNREAD or time.monotonic() - unit[1] > UNIT_SECONDS:
        unit[0], unit[1] = _read_token(), time.monotonic()
    return unit[0]


def _read_token() -> str | None:
    from .upsert import fast_cursor  # the first statement of every records request

    with fast_cursor(connection) as cursor:
        cursor.execute("SELECT token FROM data_definitions WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def definitions_changed(*, using: str | None = None, **kwargs) -> None:
    """Mark the definitions changed (a signal receiver: other arguments are ignored)."""
    token = uuid.uuid4().hex
    unit = _unit.get()
    if unit is not None:  # a unit of work changing definitions: read them again after
        unit[0] = _UNREAD
    with connections[using or DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("UPDATE data_definitions SET token = %s WHERE id = 1", [token])
        if cursor.rowcount == 0:
            cursor.execute("INSERT INTO data_definitions (id, token) VALUES (1, %s)", [token])


def cached(key: Hashable, build: Callable[[], T]) -> T:
    """What ``build`` returns, from the cache while the definitions are unchanged.

    What is cached is shared: callers must not change it."""
    global _token
    token = definitions_token()
    if token is None:
        return build()
    with _lock:
        if token == _token and key in _entries:
            return _entries[key]
    value = build()
    with _lock:
        if token != _token:
            _entries.clear()
            _token = token
        _entries[key] = value
    return value


def clear() -> None:
    """Forget everything cached in this process."""
    global _token
    with _lock:
        _entries.clear()
        _token = None


# --- elements, with what they refer to ------------------------------------------------

MAX_DEPTH = 6  # a flow -> its webhook -> connection -> authorization -> client -> provider


M = TypeVar("M", bound=Model)


def element(model: type[M], pk: int) -> M | None:
    """The element (or data type, or namespace) of ``model`` with primary key ``pk``, its
    namespace and every element it refers to set on it, recursively, each cached once:
    a task's flow with its translator, data types, webhook, connection… without a query
    once cached. Small queries, one per element (one query joining them all took 150 ms
    to build: 47 joins)."""
    return cached(("element", model._meta.label_lower, pk), lambda: _load(model, pk, 0))


def _load(model: type[M], pk: int, depth: int) -> M | None:
    instance = model._base_manager.filter(pk=pk).first()
    if instance is not None and depth < MAX_DEPTH:
        for field in instance._meta.concrete_fields:
            target_id = getattr(instance, field.attname) if field.many_to_one else None
            related: Any = field.related_model
            if target_id is None or not is_definition(related):
                continue

            def build(related: Any = related, target_id: int = target_id) -> Model | None:
                return _load(related, target_id, depth + 1)

            target = cached(("element", related._meta.label_lower, target_id), build)
            if target is not None:
                setattr(instance, field.name, target)
    return instance


def is_definition(model) -> bool:
    """Namespaces, data types and every element model: the rows the token stands for
    (records, tasks and logs, which also have a namespace, are not)."""
    from .models import DataType, Namespace, NamespacedElement

    return model in (Namespace, DataType) or (
        isinstance(model, type) and issubclass(model, NamespacedElement)
    )
