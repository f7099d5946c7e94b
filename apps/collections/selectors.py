"""Reads: which collections a user sees, and what a collection holds.

A collection holds its member elements and everything they depend on (the
*closure*): adding a flow pulls in its event, translator, webhook, connection,
data types and the algorithms it calls, so a collection is always complete,
even when a member later comes to need another element.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q, QuerySet

from apps.data import permissions
from apps.data.models import Namespace

from .kinds import BY_NAME, KINDS, Kind, dependencies, kind_of, reference
from .models import Collection, CollectionElement

Key = tuple[str, int]  # (kind name, element id)


@dataclass
class Member:
    """An element of a collection, and why it is there."""

    kind: Kind
    element: models.Model
    chosen: bool = False  # added on purpose (else pulled in)
    recorded: bool = False  # has a membership row (else needed, found on the way)
    with_records: bool = False
    needed_by: list[str] = field(default_factory=list)  # "flow crm.import_contacts", …

    @property
    def reference(self) -> str:
        return reference(self.element)

    @property
    def key(self) -> Key:
        return (self.kind.name, self.element.pk)

    def __str__(self) -> str:
        return f"{self.kind.name} {self.reference}"


def key_of(element: models.Model) -> Key:
    return (kind_of(element).name, element.pk)


def elements_of(rows: Iterable[tuple[str, int]]) -> dict[Key, models.Model]:
    """The elements of (kind, id) pairs, one query per kind; rows of deleted ones are skipped."""
    wanted: dict[str, set[int]] = {}
    for kind_name, pk in rows:
        wanted.setdefault(kind_name, set()).add(pk)
    found: dict[Key, models.Model] = {}
    for kind_name, ids in wanted.items():
        kind = BY_NAME.get(kind_name)
        if kind is None:
            continue
        for element in kind.objects.filter(pk__in=ids).select_related("namespace"):
            found[(kind_name, element.pk)] = element
    return found


def closure(roots: Iterable[models.Model]) -> dict[Key, Member]:
    """The elements ``roots`` need, themselves included, with who needs what."""
    members: dict[Key, Member] = {}
    pending = list(roots)
    for element in pending:
        members.setdefault(key_of(element), Member(kind_of(element), element))
    while pending:
        element = pending.pop()
        member = members[key_of(element)]
        for needed in dependencies(member.kind, element):
            key = key_of(needed)
            if key not in members:
                members[key] = Member(kind_of(needed), needed)
                pending.append(needed)
            what = str(member)
            if what not in members[key].needed_by:
                members[key].needed_by.append(what)
    return members


def collection_contents(collection: Collection) -> list[Member]:
    """Every element the collection holds, in install order then by reference."""
    rows = list(collection.members.values_list("kind", "object_id", "chosen", "with_records"))
    elements = elements_of((kind, pk) for kind, pk, _, _ in rows)
    members = closure(elements.values())
    for kind_name, pk, chosen, with_records in rows:
        member = members.get((kind_name, pk))
        if member is not None:
            member.recorded, member.chosen, member.with_records = True, chosen, with_records
    order = {kind.name: i for i, kind in enumerate(KINDS)}
    for member in members.values():
        member.needed_by.sort()
    return sorted(members.values(), key=lambda m: (order[m.kind.name], m.reference))


def collection_namespaces(collection: Collection) -> list[str]:
    return sorted({m.element.namespace.name for m in collection_contents(collection)})  # type: ignore[attr-defined]


def _hidden_members(namespaces: QuerySet[Namespace]) -> QuerySet[CollectionElement]:
    """Membership rows of elements in namespaces outside ``namespaces``."""
    outside = [
        Q(kind=kind.name, object_id__in=kind.objects.exclude(namespace__in=namespaces).values("pk"))
        for kind in KINDS
    ]
    return CollectionElement.objects.filter(functools.reduce(operator.or_, outside))


def collections_for(user, permission: str = permissions.VIEW) -> QuerySet[Collection]:
    """The collections all of whose namespaces ``user`` holds ``permission`` on.

    ``user=None`` is the operator at the shell (management commands): every collection.
    """
    if user is None or getattr(user, "is_superuser", False):
        return Collection.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Collection.objects.none()
    allowed = permissions.namespaces_for(user, permission)
    return Collection.objects.exclude(pk__in=_hidden_members(allowed).values("collection_id"))


def may(user, collection: Collection, permission: str = permissions.VIEW) -> bool:
    """Whether ``user`` holds ``permission`` on every namespace the collection holds elements of.

    Seeing or exporting needs VIEW; changing it (its elements, its metadata) needs CHANGE.
    """
    if user is None or getattr(user, "is_superuser", False):
        return True
    allowed = set(permissions.namespaces_for(user, permission).values_list("name", flat=True))
    return bool(allowed) and set(collection_namespaces(collection)) <= allowed
