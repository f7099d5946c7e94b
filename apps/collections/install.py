"""Installing a collection document: the plan first, then all or nothing.

:func:`collection_plan` and :func:`collection_install` run the same installer in
one transaction; the plan is that run rolled back, the install that run
committed. So the plan validates everything the install would (each element is
saved through its own service: schemas checked, algorithms compiled,
schedulers synced) and cannot disagree with what the install then does.

Per element of the document the installer finds the installed element of the
same namespace and name, compares every field and creates it, updates it (the
changed fields) or leaves it alone; elements the installed version of the
collection held and the document does not are removed (or kept, when another
collection holds them too). Schedulers and observers arrive inactive unless
``activate``. A secret placeholder takes the value given for it; left out, an
installed element keeps its stored secret, and a new one is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from .document import CollectionError, check, load
from .installer import Installer
from .models import Collection
from .plan import Plan


@dataclass
class Installed:
    """What an install did: the collection and the plan it applied."""

    collection: Collection
    plan: Plan


class _DryRun(Exception):
    def __init__(self, plan: Plan) -> None:
        self.plan = plan


def collection_plan(
    document: bytes | str | dict,
    *,
    user=None,
    secrets: Mapping[str, Any] | None = None,
    activate: bool = False,
    force: bool = False,
) -> Plan:
    """What installing ``document`` would do; nothing is changed.

    Raises CollectionError (every problem with its JSON path) when the install
    would fail. Secrets not given are listed in ``plan.missing_secrets`` rather
    than refused. ``user=None`` is the operator at the shell (every permission).
    """
    try:
        _run(document, user=user, secrets=secrets, activate=activate, force=force, dry=True)
    except _DryRun as dry:
        return dry.plan
    raise AssertionError("a dry run always rolls back")  # pragma: no cover


def collection_install(
    document: bytes | str | dict,
    *,
    user=None,
    secrets: Mapping[str, Any] | None = None,
    activate: bool = False,
    force: bool = False,
) -> Installed:
    """Install ``document`` in one transaction: all of it, or (CollectionError) nothing.

    ``secrets`` maps placeholder names to values; ``activate`` lets schedulers and
    observers start; ``force`` installs a version older than the installed one.
    """
    return _run(document, user=user, secrets=secrets, activate=activate, force=force, dry=False)


def _run(document, *, user, secrets, activate, force, dry) -> Installed:
    doc = load(document)
    problems = check(doc)
    if problems:
        raise CollectionError(problems)
    with transaction.atomic():
        installer = Installer(doc, user=user, secrets=dict(secrets or {}), activate=activate)
        plan = installer.run(force=force, dry=dry)
        if installer.forbidden:
            raise CollectionError(sorted(set(installer.forbidden)), code="forbidden")
        if installer.problems:
            raise CollectionError(sorted(set(installer.problems)))
        if dry:
            raise _DryRun(plan)
        assert installer.collection is not None
        return Installed(installer.collection, plan)
