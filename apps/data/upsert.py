# ruff: noqa: S608  (table names are module constants, values are bound parameters)
"""Bulk reads and upserts of records, written for each database's fastest path.

The records service calls :func:`write_batch` once per batch: it stores the
rows that are new or changed and says which were created, which changed (with
their previous data, for observers) and how many were already as given. The ORM's
``bulk_create(update_conflicts=True)`` spent three quarters of a batch building
model instances and SQL, so both go to the driver directly, on the connection
Django uses, inside the caller's transaction.

A batch first reads the stored digests of its keys (:mod:`.encoding`): a
record whose digest is unchanged is left alone without reading its data, and
only records whose digest differs have their stored data read and compared.
On PostgreSQL, once a data type's last big batch was all new rows (a first
import), its next batch is inserted first (``ON CONFLICT DO NOTHING RETURNING``)
and only the rows that were already there are compared as above: no read of
digests that cannot exist (a first import +10-20%, bench/import_flow.py). A batch
that meets stored rows goes back to comparing first.
Then the new and changed rows are written:

* SQLite: one prepared ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE``.
* PostgreSQL: ``COPY`` into a temporary staging table, then one
  ``INSERT … SELECT … ON CONFLICT DO UPDATE``. Measured here on 100,000
  records: ~42,000 rows/s at 500 per batch, against ~21,000 for a pipelined
  ``executemany`` and ~13,000 for multi-row ``VALUES`` through Django's cursor.
  Below ``COPY_THRESHOLD`` rows a prepared ``executemany`` is faster.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone

from .encoding import record_text, text_digest
from .models import Record

TABLE = Record._meta.db_table
STAGE = "data_record_incoming"  # a temporary table, per connection

# Below this many rows a plain prepared INSERT beats staging a COPY.
COPY_THRESHOLD = 64


def _connection():
    connection = connections[router.db_for_write(Record)]
    connection.ensure_connection()
    return connection


@contextmanager
def fast_cursor(connection):
    """A cursor for the statements on the path of every change. On PostgreSQL it binds
    the parameters on the server (psycopg's Cursor) where Django's cursor quotes them into
    the text (a ClientCursor, parsed and planned at every run): an engine statement took
    1.0 ms instead of 1.8 ms; and a statement run five times on a connection is prepared
    (settings: DATABASE_PREPARE_THRESHOLD), which took change -> export from 2.1x to 1.9x
    the two-hop yardstick (bench/engine.py). Errors are Django's. Not seen by Django's
    query capture (assertNumQueries and the like). The connection is health-checked first
    as Django's cursor does it (CONN_HEALTH_CHECKS: once per request or task), so one the
    database dropped is opened again rather than failing the statement."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            import psycopg

            with psycopg.Cursor(connection.connection) as cursor:
                yield cursor
        else:
            with connection.cursor() as cursor:
                yield cursor


def _select(data_type_id: int, keys: list[str], column: str) -> list[tuple[str, Any]]:
    """``(key, column)`` of the stored rows among ``keys``."""
    connection = _connection()
    if connection.vendor == "postgresql":
        import psycopg

        # One index probe per key, whatever the planner believes: with "key" = ANY(…) and
        # no statistics yet (a new table, a new data type's first import) it chose to
        # scan every row of the data type for every batch, an import slowing as it grew.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f'SELECT k."key", r.value FROM unnest(%s::text[]) AS k("key") '
                f"CROSS JOIN LATERAL (SELECT {column} AS value FROM {TABLE} "
                'WHERE data_type_id = %s AND "key" = k."key" LIMIT 1) AS r',
                (keys, data_type_id),
            )
            return cursor.fetchall()
    # The keys as one JSON parameter: no limit on their number, no SQL built per batch.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f'SELECT "key", {column} FROM {TABLE} WHERE data_type_id = ? '
            'AND "key" IN (SELECT value FROM json_each(?))',
            (data_type_id, json.dumps(keys)),
        )
        return cursor.fetchall()
    finally:
        cursor.close()


def stored_digests(data_type_id: int, keys: list[str]) -> dict[str, str]:
    """The stored digest of those keys that exist, by key ("" for a row without one)."""
    return dict(_select(data_type_id, keys, '"digest"'))


def stored_fields(data_type_id: int, keys: list[str], fields: list[str]) -> dict[str, tuple]:
    """Top-level text fields of the stored records of those keys (only those that have
    them all), without reading whole records: e.g. a digest kept in the record."""
    for name in fields:
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a field name")
    if _connection().vendor == "postgresql":
        column = "concat_ws(' ', " + ", ".join(f"\"data\"->>'{f}'" for f in fields) + ")"
    else:
        column = " || ' ' || ".join(f"json_extract(\"data\", '$.{f}')" for f in fields)
    found = {}
    for key, text in _select(data_type_id, keys, column):
        parts = (text or "").split(" ")
        if len(parts) == len(fields):
            found[key] = tuple(parts)
    return found


def existing(data_type_id: int, keys: list[str]) -> dict[str, Any]:
    """The stored data of those keys that exist, by key."""
    column = '"data"::text' if _connection().vendor == "postgresql" else '"data"'
    return {key: json.loads(data) for key, data in _select(data_type_id, keys, column)}


def records_of_keys(data_type_id: int, keys: list[str], *, after: int, limit: int) -> list[Record]:
    """The stored records among ``keys`` with an id above ``after``, in id order, at most
    ``limit`` (what an observer's lot of a flow reads): the ORM's query took three times
    as long as the database to build and read, on the path of every change."""
    connection = _connection()
    param: list[str] | str
    if connection.vendor == "postgresql":
        where, param = '"key" = ANY(%s)', list(keys)
    else:
        where, param = '"key" IN (SELECT value FROM json_each(%s))', json.dumps(keys)
    with fast_cursor(connection) as cursor:
        cursor.execute(
            f'SELECT id, "key", "data"{"::text" if connection.vendor == "postgresql" else ""} '
            f"FROM {TABLE} WHERE data_type_id = %s AND {where} AND id > %s ORDER BY id LIMIT %s",
            [data_type_id, param, after, limit],
        )
        rows = cursor.fetchall()
    found = []
    for pk, key, text in rows:
        record = Record(id=pk, data_type_id=data_type_id, key=key, data=json.loads(text))
        record._state.adding, record._state.db = False, connection.alias
        found.append(record)
    return found


# A row to write: (key, JSON text, digest of that text).
Row = tuple[str, str, str]


def upsert(data_type_id: int, rows: list[Row], *, staged: bool = False) -> None:
    """Insert or replace rows of one data type (``staged``: this transaction has used the
    staging table already)."""
    connection = _connection()
    if connection.vendor == "postgresql":
        _upsert_postgresql(connection, data_type_id, rows, staged)
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f'INSERT INTO {TABLE} (data_type_id, "key", "data", "digest", created_at, updated_at) '
        'VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (data_type_id, "key") DO UPDATE SET '
        '"data" = excluded."data", "digest" = excluded."digest", updated_at = excluded.updated_at'
    )
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, [(data_type_id, k, t, d, now, now) for k, t, d in rows])
    finally:
        cursor.close()


# The psycopg connections whose staging table exists (it lives as long as the connection).
_staged: weakref.WeakSet = weakref.WeakSet()


def _stage(connection, cursor, rows: Iterable[Row], staged: bool = False) -> None:
    """COPY the rows into this connection's temporary staging table.

    The table empties itself at each commit (ON COMMIT DELETE ROWS); only a batch
    inside a longer transaction (the caller's atomic block around several batches)
    empties it first. Creating it once per connection and not emptying it twice saved
    a PostgreSQL first import ~2 ms a page (bench/import_flow.py)."""
    raw = connection.connection
    if raw not in _staged:
        cursor.execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ("key" text, "data" jsonb, '
            '"digest" text) ON COMMIT DELETE ROWS'
        )
        # Known to exist once created in a committed transaction (a rollback drops it).
        transaction.on_commit(lambda: _staged.add(raw), using=connection.alias)
    if staged or len(connection.atomic_blocks) != 1:  # maybe not empty
        cursor.execute(f"TRUNCATE {STAGE}")
    with cursor.copy(f'COPY {STAGE} ("key", "data", "digest") FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def _upsert_postgresql(connection, data_type_id: int, rows: list[Row], staged: bool) -> None:
    import psycopg

    now = timezone.now()
    columns = (
        f'INSERT INTO {TABLE} (data_type_id, "key", "data", "digest", created_at, updated_at) '
    )
    on_conflict = (
        'ON CONFLICT (data_type_id, "key") DO UPDATE SET "data" = excluded."data", '
        '"digest" = excluded."digest", updated_at = excluded.updated_at'
    )
    with psycopg.Cursor(connection.connection) as cursor:
        if len(rows) < COPY_THRESHOLD:
            cursor.executemany(
                columns + "VALUES (%s, %s, %s::jsonb, %s, %s, %s) " + on_conflict,
                [(data_type_id, key, text, digest, now, now) for key, text, digest in rows],
            )
            return
        _stage(connection, cursor, rows, staged)
        cursor.execute(
            columns + f'SELECT %s, "key", "data", "digest", %s, %s FROM {STAGE} ' + on_conflict,
            (data_type_id, now, now),
        )


def write_one(data_type_id: int, key: str, data: Any) -> tuple[Record, Any]:
    """Insert or replace one record (the API's and the admin's save of a record): the
    record as stored, and its previous data (None when it is new).

    On the path of every change a user makes, so one statement on PostgreSQL: the old
    data read and the new one written together (the parts of one statement share its
    snapshot: the old data is the row as it was before it); the ORM's read-then-save
    took four times as long. Inside the caller's transaction."""
    text = record_text(data)
    digest = text_digest(text)
    connection = _connection()
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    write = (
        f'INSERT INTO {TABLE} (data_type_id, "key", "data", "digest", created_at, updated_at) '
        "VALUES (%s, %s, %s, %s, %s, %s) "
        'ON CONFLICT (data_type_id, "key") DO UPDATE SET "data" = excluded."data", '
        '"digest" = excluded."digest", updated_at = excluded.updated_at '
    )
    values = [data_type_id, key, text, digest, stamp, stamp]
    with fast_cursor(connection) as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f'WITH old AS (SELECT "data"::text AS data FROM {TABLE} WHERE data_type_id = %s '
                f'AND "key" = %s) {write.replace("%s, %s, %s, %s", "%s, %s, %s::jsonb, %s", 1)}'
                "RETURNING id, created_at, (SELECT data FROM old)",
                [data_type_id, key, *values],
            )
            pk, created_at, old = cursor.fetchone()
        else:
            cursor.execute(
                f'SELECT "data" FROM {TABLE} WHERE data_type_id = %s AND "key" = %s',
                [data_type_id, key],
            )
            found = cursor.fetchone()
            old = found[0] if found else None
            cursor.execute(write + "RETURNING id, created_at", values)
            pk, created_at = cursor.fetchone()
    (created_at,) = converted_values(Record, ["created_at"], [created_at], connection)
    record = Record(id=pk, data_type_id=data_type_id, key=key, data=data, digest=digest,
                    created_at=created_at, updated_at=now)  # fmt: skip
    record._state.adding, record._state.db = False, connection.alias
    return record, (json.loads(old) if old is not None else None)


def converted_values(model, attnames: list[str], values: list, connection) -> list:
    """Columns as a cursor gave them, converted as the ORM converts them (JSON text, dates
    as SQLite stores them)."""
    key = (model, tuple(attnames), connection.vendor)
    if key not in _converters:
        columns = [model._meta.get_field(name).cached_col for name in attnames]
        _converters[key] = [
            (
                column,
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
            )
            for column in columns
        ]
    converted = []
    for (column, converters), value in zip(_converters[key], values, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return converted


_converters: dict[tuple, list] = {}  # (model, attnames, vendor) -> each column's converters


def lean_insert(instance) -> None:
    """INSERT ``instance`` (a new model instance) as ``save()`` would, its values prepared by
    its fields, but without the ORM's query building and signals (for the engine's rows on
    the path of every change: tasks; a create cost twice the statement); sets its pk."""
    model = type(instance)
    connection = connections[router.db_for_write(model)]
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    key = (model, connection.vendor)
    if key not in _inserts:
        quote = connection.ops.quote_name
        _inserts[key] = (
            f"INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(model._meta.pk.column)}"
        )
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with fast_cursor(connection) as cursor:
        cursor.execute(_inserts[key], values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias


_inserts: dict[tuple, str] = {}  # (model, vendor) -> its INSERT


@dataclass
class BatchOutcome:
    """What one batch did: keys created, (key, previous data) changed, rows left alone."""

    created: list[str] = field(default_factory=list)
    updated: list[tuple[str, Any]] = field(default_factory=list)
    unchanged: int = 0


# Data types whose last big batch on PostgreSQL was all new rows (a first import): their
# next batch is inserted first and only the rows already there are compared.
_inserting: set[int] = set()


def write_batch(data_type_id: int, rows: dict[str, Any]) -> BatchOutcome:
    """Store ``rows`` (key → data) of one data type; unchanged rows are not written."""
    texts = {key: record_text(data) for key, data in rows.items()}
    digests = {key: text_digest(text) for key, text in texts.items()}
    outcome = BatchOutcome()
    keys = list(rows)
    if len(rows) < COPY_THRESHOLD and _connection().vendor == "postgresql":
        return _write_few_postgresql(data_type_id, rows, texts, digests)
    staged = False  # has this batch used the staging table (which keeps it until commit)?
    if data_type_id in _inserting and len(rows) >= COPY_THRESHOLD:
        connection = _connection()
        if connection.vendor == "postgresql":
            batch = [(key, texts[key], digests[key]) for key in keys]
            inserted = _insert_new(connection, data_type_id, batch)
            staged = True
            outcome.created = [key for key in keys if key in inserted]
            keys = [key for key in keys if key not in inserted]
            if keys:
                _inserting.discard(data_type_id)  # rows already there: compare first again
            if not keys:
                return outcome
    stored = stored_digests(data_type_id, keys)
    differing = [key for key, digest in stored.items() if digest != digests[key]]
    previous = existing(data_type_id, differing) if differing else {}
    to_write: list[Row] = []
    for key in keys:
        data = rows[key]
        if key in stored:
            if stored[key] == digests[key]:
                outcome.unchanged += 1
                continue
            old = previous.get(key)
            if old == data:  # the same record in another spelling (key order, say)
                outcome.unchanged += 1
                continue
            if old is None:  # deleted meanwhile: the upsert creates it again
                outcome.created.append(key)
            else:
                outcome.updated.append((key, old))
        else:
            outcome.created.append(key)
        to_write.append((key, texts[key], digests[key]))
    if to_write:
        upsert(data_type_id, to_write, staged=staged)
    if len(rows) >= COPY_THRESHOLD and len(outcome.created) == len(rows):
        _inserting.add(data_type_id)
    return outcome


def _write_few_postgresql(
    data_type_id: int, rows: dict[str, Any], texts: dict[str, str], digests: dict[str, str]
) -> BatchOutcome:
    """A small batch (a lot an observer fired, a record or two from an API) in one
    statement: the stored rows of its keys read (as they were before it), the new and changed ones
    written, the unchanged ones left alone (the same digest, or equal JSON: another key
    order, a row stored without a digest), and the previous data of
    those written returned. Three round trips before, on the path of every change."""
    keys = list(rows)
    now = timezone.now()
    with fast_cursor(_connection()) as cursor:
        cursor.execute(
            'WITH incoming AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) '
            'AS i("key", "data", "digest")), '
            f'old AS (SELECT r."key", r."data"::text AS data FROM {TABLE} r '
            'JOIN incoming i ON r.data_type_id = %s AND r."key" = i."key"), '
            f'written AS (INSERT INTO {TABLE} (data_type_id, "key", "data", "digest", '
            'created_at, updated_at) SELECT %s, "key", "data"::jsonb, "digest", %s, %s '
            'FROM incoming ON CONFLICT (data_type_id, "key") DO UPDATE SET "data" = '
            'excluded."data", "digest" = excluded."digest", updated_at = excluded.updated_at '
            f'WHERE {TABLE}."digest" IS DISTINCT FROM excluded."digest" '
            f'AND {TABLE}."data" IS DISTINCT FROM excluded."data" RETURNING "key") '
            'SELECT w."key", o.data FROM written w LEFT JOIN old o ON o."key" = w."key"',
            [keys, [texts[key] for key in keys], [digests[key] for key in keys],
             data_type_id, data_type_id, now, now],
        )  # fmt: skip
        written = dict(cursor.fetchall())
    outcome = BatchOutcome()
    for key in keys:
        if key not in written:
            outcome.unchanged += 1  # stored with the same digest
        elif written[key] is None:
            outcome.created.append(key)
        else:
            old = json.loads(written[key])
            if old == rows[key]:  # the same record in another spelling (key order, say)
                outcome.unchanged += 1
            else:
                outcome.updated.append((key, old))
    return outcome


def _insert_new(connection, data_type_id: int, rows: list[Row]) -> set[str]:
    """Insert the rows whose key is not stored yet (the others are left as they are);
    the keys inserted. One COPY and one INSERT: no read of the stored digests first."""
    import psycopg

    now = timezone.now()
    with psycopg.Cursor(connection.connection) as cursor:
        _stage(connection, cursor, rows)
        cursor.execute(
            f'INSERT INTO {TABLE} (data_type_id, "key", "data", "digest", created_at, updated_at) '
            f'SELECT %s, "key", "data", "digest", %s, %s FROM {STAGE} '
            'ON CONFLICT (data_type_id, "key") DO NOTHING RETURNING "key"',
            (data_type_id, now, now),
        )
        return {row[0] for row in cursor.fetchall()}
