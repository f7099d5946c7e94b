"""What installing a document does: the plan, shown before and returned after.

A plan is made by the installer itself, run in a transaction that is rolled
back (:func:`apps.collections.install.collection_plan`), so the plan and the
install (the same run, committed) cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

CREATE, UPDATE, UNCHANGED, REMOVE, KEEP = "create", "update", "unchanged", "remove", "keep"


@dataclass
class Step:
    """One element: created, updated (which fields), unchanged, removed, or kept."""

    action: str
    kind: str
    element: str  # namespace.name
    path: str = ""  # where the document has it ("" for elements it no longer has)
    changes: list[str] = field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        text = f"{self.action} {self.kind} {self.element}"
        if self.changes:
            text += ": " + ", ".join(self.changes)
        return text + (f" ({self.note})" if self.note else "")


@dataclass
class RecordsStep:
    """The records of one data type: how many are created, updated, left as they are."""

    data_type: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def line(self) -> str:
        return (
            f"records of {self.data_type}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )


@dataclass
class Secret:
    """A placeholder of the document, and whether a value was given for it."""

    name: str
    kind: str
    element: str
    field: str
    description: str
    required: bool
    given: bool
    stored: bool = False  # not given, but the installed element has one (kept)

    def line(self) -> str:
        state = "given" if self.given else "kept as stored" if self.stored else "missing"
        optional = "" if self.required else ", optional"
        return f"secret {self.name} ({self.kind} {self.element}, {self.field}{optional}): {state}"


@dataclass
class Plan:
    collection: str
    version: str
    installed_version: str | None  # None: not installed yet
    collection_action: str  # create, update or unchanged
    collection_changes: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)  # created
    steps: list[Step] = field(default_factory=list)
    records: list[RecordsStep] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)

    @property
    def missing_secrets(self) -> list[str]:
        return [s.name for s in self.secrets if s.required and not s.given and not s.stored]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(step.action for step in self.steps)
        return {action: counted[action] for action in (CREATE, UPDATE, UNCHANGED, REMOVE, KEEP)}

    @property
    def changes_anything(self) -> bool:
        counts = self.counts
        return bool(
            self.namespaces
            or self.collection_action != UNCHANGED
            or counts[CREATE] + counts[UPDATE] + counts[REMOVE]
            or any(r.created or r.updated for r in self.records)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "version": self.version,
            "installed_version": self.installed_version,
            "collection_action": self.collection_action,
            "collection_changes": self.collection_changes,
            "namespaces": self.namespaces,
            "counts": self.counts,
            "steps": [asdict(step) for step in self.steps],
            "records": [asdict(step) for step in self.records],
            "secrets": [asdict(secret) for secret in self.secrets],
            "missing_secrets": self.missing_secrets,
        }

    @property
    def fingerprint(self) -> str:
        """Changes when the plan does: shown once, checked again before installing."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def lines(self) -> list[str]:
        """The plan as a person reads it (the CLI prints these, the admin shows them)."""
        if self.installed_version is None:
            head = f"collection {self.collection} {self.version}: new"
        elif self.installed_version == self.version:
            head = f"collection {self.collection} {self.version}: installed already"
        else:
            head = f"collection {self.collection}: {self.installed_version} -> {self.version}"
        if self.collection_changes:
            head += " (" + ", ".join(self.collection_changes) + ")"
        out = [head]
        out += [f"create namespace {name}" for name in self.namespaces]
        out += [step.line() for step in self.steps]
        out += [step.line() for step in self.records]
        out += [secret.line() for secret in self.secrets]
        counts = self.counts
        out.append(", ".join(f"{n} {action}" for action, n in counts.items() if n) or "empty")
        return out
