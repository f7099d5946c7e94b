"""Writes of collections: the one home the admin, the API, the commands and the
connector factory call.

Building: :func:`collection_save` (name, title, version…), :func:`collection_add`
(elements, each pulling in what it needs), :func:`collection_remove`,
:func:`collection_build` (all at once, membership made exactly what is given).
Moving: :func:`collection_export` (bytes), and, from :mod:`.install`,
:func:`collection_plan` and :func:`collection_install`.

Every function is keyword-only; ``user`` is checked against namespace
permissions (``None``: the operator at the shell, who may do everything).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from apps.data import permissions

from . import export
from .install import Installed, collection_install, collection_plan
from .installer import NO_KEY
from .kinds import kind_of, reference
from .membership import members_write
from .models import Collection
from .selectors import Member, closure, collection_contents, elements_of, key_of, may

__all__ = [
    "Added",
    "Installed",
    "collection_add",
    "collection_build",
    "collection_delete",
    "collection_document",
    "collection_export",
    "collection_install",
    "collection_plan",
    "collection_remove",
    "collection_save",
]


@dataclass
class Added:
    """What :func:`collection_add` or :func:`collection_build` did."""

    collection: Collection
    added: list[Member] = field(default_factory=list)  # the elements asked for, new here
    pulled_in: list[Member] = field(default_factory=list)  # what they need, new here
    dropped: list[str] = field(default_factory=list)  # build only: members no longer given

    def as_dict(self) -> dict:
        def described(members: list[Member]) -> list[dict]:
            return [
                {"kind": m.kind.name, "element": m.reference, "needed_by": m.needed_by}
                for m in members
            ]

        return {
            "collection": self.collection.name,
            "added": described(self.added),
            "pulled_in": described(self.pulled_in),
            "dropped": self.dropped,
        }


def _require(user, collection: Collection | None, elements: Iterable[models.Model]) -> None:
    if user is None or user.is_superuser:
        return
    if collection is not None and collection.pk and not may(user, collection, permissions.CHANGE):
        raise PermissionDenied(
            f"You may not change collection {collection.name}: it holds elements of namespaces "
            "you may not change."
        )
    for element in elements:
        if not permissions.can_change(user, element.namespace):  # type: ignore[attr-defined]
            raise PermissionDenied(
                f"You may not add {reference(element)}: you may not change its namespace."
            )


def _require_keys(data_types: Iterable[models.Model]) -> None:
    for data_type in data_types:
        if not getattr(data_type, "primary_key", ""):
            raise ValidationError(NO_KEY.format(data_type), code="no_primary_key")


def collection_save(
    *,
    name: str,
    title: str = "",
    version: str = "1.0.0",
    description: str = "",
    authors: Sequence[str] = (),
    instance: Collection | None = None,
    user=None,
) -> Collection:
    """Create or change a collection's own fields (validated: a semantic version…)."""
    collection = instance or Collection()
    _require(user, collection, [])
    creating = collection.pk is None and user is not None and not user.is_superuser
    if creating and not permissions.namespaces_for(user, permissions.CHANGE).exists():
        raise PermissionDenied("You may not create collections: you may change no namespace.")
    collection.name, collection.title, collection.version = name, title, version
    collection.description, collection.authors = description, list(authors)
    collection.full_clean()
    collection.save()
    return collection


def _record(
    collection: Collection, members: dict, chosen_keys: set, with_records: set, *, exact=False
) -> Added:
    """Write the membership rows of ``members``; say which are new: asked for or pulled in."""
    wanted = {key: (key in chosen_keys, key in with_records) for key in members}
    new = members_write(collection, wanted, exact=exact)
    result = Added(collection)
    for key, member in sorted(members.items(), key=lambda kv: (kv[0][0], kv[1].reference)):
        if key in new:
            (result.added if key in chosen_keys else result.pulled_in).append(member)
    return result


@transaction.atomic
def collection_add(
    *,
    collection: Collection,
    elements: Iterable[models.Model],
    with_records: Iterable[models.Model] = (),
    user=None,
) -> Added:
    """Add elements (and the data types in ``with_records``, with their records); each
    pulls in what it needs, so the collection stays complete."""
    chosen = [*elements, *with_records]
    for element in chosen:
        kind_of(element)  # only elements a collection can hold
    _require(user, collection, chosen)
    _require_keys(with_records)
    members = closure(chosen)
    _require(user, None, [m.element for m in members.values()])
    return _record(
        collection, members, {key_of(e) for e in chosen}, {key_of(e) for e in with_records}
    )


@transaction.atomic
def collection_remove(
    *, collection: Collection, elements: Iterable[models.Model], user=None
) -> int:
    """Take elements out of a collection (the elements themselves stay); returns how many."""
    _require(user, collection, [])
    keys = [key_of(element) for element in elements]
    removed = 0
    for kind_name, pk in keys:
        removed += collection.members.filter(kind=kind_name, object_id=pk).delete()[0]
    return removed


@transaction.atomic
def collection_build(
    *,
    name: str,
    elements: Iterable[models.Model],
    with_records: Iterable[models.Model] = (),
    title: str = "",
    version: str = "1.0.0",
    description: str = "",
    authors: Sequence[str] = (),
    user=None,
) -> Added:
    """Create or update collection ``name`` to hold exactly ``elements`` and what they need.

    Members not given any more are dropped from the collection (the elements stay).
    """
    instance = Collection.objects.filter(name=name).first()
    collection = collection_save(
        name=name, title=title, version=version, description=description, authors=authors,
        instance=instance, user=user,
    )  # fmt: skip
    chosen = [*elements, *with_records]
    _require(user, None, chosen)
    _require_keys(with_records)
    members = closure(chosen)
    _require(user, None, [m.element for m in members.values()])
    rows = [
        (r.kind, r.object_id)
        for r in collection.members.all()
        if (r.kind, r.object_id) not in members
    ]
    gone = elements_of(rows)
    records = {key_of(e) for e in with_records}
    result = _record(collection, members, {key_of(e) for e in chosen}, records, exact=True)
    result.dropped = sorted(f"{k} {reference(e)}" for (k, _), e in gone.items())
    return result


def collection_delete(*, collection: Collection, user=None) -> None:
    """Delete a collection; its elements stay (they are no longer in it)."""
    _require(user, collection, [])
    collection.delete()


def collection_document(*, collection: Collection, user=None) -> dict:
    """The collection's document as a dict (see :mod:`.export`)."""
    if not may(user, collection, permissions.VIEW):
        raise PermissionDenied(f"You may not export collection {collection.name}.")
    return export.collection_document(collection=collection)


def collection_export(*, collection: Collection, user=None) -> bytes:
    """The document as bytes: the same bytes every time for the same collection."""
    return export.dumps(collection_document(collection=collection, user=user))


def collection_members(*, collection: Collection) -> list[Member]:
    return collection_contents(collection)
