"""Library code that algorithms reach through ``api``: the heavy work stays in the platform.

Generated connectors (Cenit's Connector Factory) keep each remote record as
``{remote_id, raw_data, hmac, imported_at, last_source}``; these functions
build and store that shape in bulk, so that an algorithm handling a page of
200 records makes one call, not 200.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from django.utils import timezone

from apps.data.models import DataType, Record
from apps.data.services import SaveResult, records_save
from apps.data.upsert import stored_fields

FROM_API = "MAPPING_FROM_API_RESPONSE"  # the last_source of a record the remote API sent


def record_hmac(data: Any) -> str:
    """The digest a connector compares to tell a changed record from an unchanged one:
    sha256 of the record as compact JSON with sorted keys."""
    try:
        text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers past 64 bits: the standard library writes them
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(text).hexdigest()


def imported_records(
    data_type: DataType, records: list, *, primary_key: str
) -> tuple[list[dict], list[int]]:
    """Remote records as stored records (and the positions of records without an id).

    A record whose raw data is as stored keeps its stored form (and ``imported_at``):
    importing the same data again writes nothing."""
    now = timezone.now().isoformat()
    built: list[dict] = []
    missing: list[int] = []
    for index, raw in enumerate(records):
        remote_id = raw.get(primary_key) if isinstance(raw, dict) else None
        if remote_id is None or remote_id == "" or isinstance(remote_id, bool | dict | list):
            missing.append(index)
            continue
        built.append(
            {"remote_id": str(remote_id), "raw_data": raw, "hmac": record_hmac(raw),
             "last_source": FROM_API, "imported_at": now}
        )  # fmt: skip
    # Values without spaces (a hex digest, a constant, an ISO time): read in one query.
    stored = stored_fields(
        data_type.pk, [r["remote_id"] for r in built], ["hmac", "last_source", "imported_at"]
    )
    for record in built:
        digest, source, at = stored.get(record["remote_id"], (None, None, None))
        if digest == record["hmac"] and source == FROM_API and at:
            record["imported_at"] = at
    return built, missing


def save_imported(
    data_type: DataType,
    records: list,
    *,
    primary_key: str,
    source: str,
    replaces: str | None = None,
    cursor_field: str | None = None,
) -> dict[str, Any]:
    """Store remote records by their id (upserted in bulk); with ``replaces``, the record
    of that key (a local record the remote API just created) gives way to the stored one.
    With ``cursor_field``, ``cursor`` is the greatest value of that field (as text)."""
    built, missing = imported_records(data_type, records, primary_key=primary_key)
    cursor = None
    if cursor_field:
        values = [
            str(r[cursor_field]) for r in records
            if isinstance(r, dict) and r.get(cursor_field) not in (None, "")
        ]  # fmt: skip
        cursor = max(values, default=None)
    result = records_save(data_type=data_type, records=built, source=source) if built else None
    summary = (result or SaveResult()).as_dict()
    summary["errors"] = summary["errors"][:20]
    summary["without_id"] = missing[:20]
    summary["missing_ids"] = len(missing)
    summary["cursor"] = cursor
    if replaces and built and replaces != built[0]["remote_id"] and not summary["invalid"]:
        Record.objects.filter(data_type=data_type, key=replaces).delete()
    return summary


# --- locks -----------------------------------------------------------------------------

LOCK_POLL_SECONDS = 0.05


def lock_acquire(*, namespace_id: int, name: str, owner: str, seconds: float, wait: float) -> bool:
    """Take a namespace's named lock (or an expired one); wait up to ``wait`` seconds."""
    import time
    from datetime import timedelta

    from django.db import IntegrityError, transaction

    from ..models import Lock

    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        until = now + timedelta(seconds=seconds)
        taken = Lock.objects.filter(
            namespace_id=namespace_id, name=name, expires_at__lt=now
        ).update(owner=owner, expires_at=until)
        if not taken:
            try:
                with transaction.atomic():
                    Lock.objects.create(
                        namespace_id=namespace_id, name=name, owner=owner, expires_at=until
                    )
                taken = 1
            except IntegrityError:
                taken = 0
        if taken:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(LOCK_POLL_SECONDS)


def lock_release(*, namespace_id: int, name: str, owner: str) -> bool:
    from ..models import Lock

    deleted, _ = Lock.objects.filter(namespace_id=namespace_id, name=name, owner=owner).delete()
    return bool(deleted)
