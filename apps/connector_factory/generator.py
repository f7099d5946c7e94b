"""The generator: from a spec, the connector's elements (DESIGN §7, seeds 001 and 004).

:func:`connector_plan` says which elements a spec makes, without touching the
database; :func:`connector_generate` writes them, in one transaction, into the
namespace named as the connector, and keeps the connector's collection equal
to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .spec import data_type_name, spec_normalize

if TYPE_CHECKING:
    from .models import Connector

SHARED_ALGORITHMS = ["do_check_error_response", "do_generate_hmac"]


def resource_plan(resource: dict) -> list[tuple[str, str]]:
    """(kind, name) of the elements of one (normalized) resource, in display order."""
    rn, rns = resource["name"], resource.get("plural") or f"{resource['name']}s"
    processes = resource.get("processes", [])
    imports, exports = "import" in processes, "export" in processes
    elements: list[tuple[str, str]] = [("data_type", data_type_name(rn))]
    if imports:
        elements += [("webhook", f"get_{rn}"), ("webhook", f"get_{rns}")]
    if exports:
        elements += [("webhook", f"create_{rn}"), ("webhook", f"update_{rn}")]
    algorithms = []
    if imports:
        algorithms += [f"do_import_{rn}", f"do_import_{rns}", f"do_get_{rn}", f"do_get_{rns}",
                       f"parse_from_api_response_{rns}"]  # fmt: skip
    algorithms.append(f"parse_from_api_response_{rn}")
    if exports:
        algorithms += [f"trigger_for_change_{rn}", f"do_export_{rn}", f"do_create_{rn}",
                       f"do_update_{rn}", f"parse_2_api_request_{rn}"]  # fmt: skip
    elements += [("algorithm", name) for name in algorithms]
    if exports:
        elements.append(("observer", f"handle_{rn}"))
    if imports:
        elements.append(("flow", f"import_{rns}"))
    if exports:
        elements.append(("flow", f"export_{rn}"))
    if imports and (resource.get("import") or {}).get("schedule"):
        elements.append(("scheduler", f"schedule_import_{rns}"))
    return elements


def connector_plan(spec: dict) -> list[tuple[str, str]]:
    """(kind, name) of every element the spec generates, in display order, pure (no DB):
    kinds: 'authorization', 'authorization_client', 'authorization_provider', 'connection',
    'data_type', 'webhook', 'algorithm', 'observer', 'flow', 'scheduler'."""
    spec = spec_normalize(spec)
    elements: list[tuple[str, str]] = [("authorization", "default_authorization")]
    if spec["authorization"]["type"] == "oauth2":
        elements += [
            ("authorization_client", "default_client"),
            ("authorization_provider", "default_provider"),
        ]
    elements.append(("connection", "default_connection"))
    for resource in spec.get("resources", []):
        elements += resource_plan(resource)
    elements += [("algorithm", name) for name in SHARED_ALGORITHMS]
    return elements


@dataclass
class GenerateResult:
    """What a generation did: the connector, its elements, and what changed."""

    connector: Connector
    namespace: str
    elements: list[tuple[str, str]]
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited algorithms not overwritten
    records_kept: list[str] = field(default_factory=list)  # data types of dropped resources

    def as_dict(self) -> dict[str, Any]:
        """The JSON summary create_connector prints (names only: never a secret)."""
        return {
            "connector": self.connector.name,
            "namespace": self.namespace,
            "collection": self.connector.collection.name if self.connector.collection else None,
            "elements": [{"kind": kind, "name": name} for kind, name in self.elements],
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "kept": self.kept,
            "records_kept": self.records_kept,
        }


def connector_generate(*, spec: dict, actor, drop_records: bool = False) -> GenerateResult:
    """Create or update (idempotent) in one transaction. Raises SpecError, PermissionDenied."""
    from .writer import generate

    return generate(spec=spec, actor=actor, drop_records=drop_records)
