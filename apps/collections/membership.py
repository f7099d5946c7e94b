"""Writing which elements a collection holds: one function for building and installing."""

from __future__ import annotations

from .models import Collection, CollectionElement

Key = tuple[str, int]  # (kind name, element id)
Flags = tuple[bool, bool]  # (chosen, with_records)


def members_write(collection: Collection, wanted: dict[Key, Flags], *, exact: bool) -> set[Key]:
    """Give ``collection`` a membership row per wanted element; return the keys that are new.

    ``exact``: rows not wanted are deleted and flags are set as given (an install,
    a build); otherwise other rows stay and flags only ever turn on (adding).
    """
    rows = {(r.kind, r.object_id): r for r in collection.members.all()}
    for key, row in rows.items():
        if key not in wanted:
            if exact:
                row.delete()
            continue
        chosen, with_records = wanted[key]
        if not exact:
            chosen, with_records = row.chosen or chosen, row.with_records or with_records
        if (row.chosen, row.with_records) != (chosen, with_records):
            row.chosen, row.with_records = chosen, with_records
            row.save(update_fields=["chosen", "with_records"])
    new = {key for key in wanted if key not in rows}
    CollectionElement.objects.bulk_create(
        CollectionElement(
            collection=collection,
            kind=kind,
            object_id=pk,
            chosen=wanted[(kind, pk)][0],
            with_records=wanted[(kind, pk)][1],
        )
        for kind, pk in sorted(new)
    )
    return new
