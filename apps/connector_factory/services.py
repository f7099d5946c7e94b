"""Writes and reads of connectors that the wizard, the API, the admin and the CLI share.

Generation itself is :func:`apps.connector_factory.generator.connector_generate`.
Every function checks that the actor may change the connector's namespace
(:mod:`apps.data.permissions`), as everywhere else on the platform.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from apps.data import permissions

from .models import Connector
from .spec import spec_without_secrets


def _require_change(actor, connector: Connector) -> None:
    """None is the platform itself (the CLI)."""
    if actor is not None and not permissions.can_change(actor, connector.namespace):
        raise PermissionDenied(
            f"You may not change namespace {connector.name!r}, which holds connector "
            f"{connector.name!r}."
        )


def connector_spec_for_edit(connector: Connector) -> dict:
    """The stored spec, secret fields empty (the wizard shows "leave empty to keep")."""
    return spec_without_secrets(connector.spec)


def connector_elements(connector: Connector) -> list[models.Model]:
    """Every generated element, in the plan's display order (for Details; each has an
    admin change page)."""
    from .writer import existing_elements

    return [element for _, element in existing_elements(connector)]


def connector_import_now(*, connector: Connector, resource: str, actor):
    """Enqueue ``do_import_<plural>`` of one resource as a task; returns the Task."""
    from apps.workflows.models import Algorithm
    from apps.workflows.services import algorithm_run

    _require_change(actor, connector)
    for item in connector.spec.get("resources", []):
        if item["name"] == resource and "import" in item.get("processes", []):
            algorithm = Algorithm.objects.get(
                namespace=connector.namespace, name=f"do_import_{item['plural']}"
            )
            return algorithm_run(algorithm=algorithm, arguments={}, actor=actor)
    raise LookupError(f"Connector {connector.name} has no resource {resource!r} that imports.")


def connector_delete(*, connector: Connector, actor, drop_records: bool = False) -> None:
    """Delete the connector's elements and collection; its records stay unless
    ``drop_records`` (then the namespace goes too, if nothing else is left in it)."""
    from .writer import remove_elements

    _require_change(actor, connector)
    with transaction.atomic():
        remove_elements(connector, keep_data_types=not drop_records)
        collection = connector.collection
        namespace = connector.namespace
        connector.delete()
        if collection is not None:
            collection.delete()
        if drop_records:
            from apps.data.models import DataType

            if not DataType.objects.filter(namespace=namespace).exists():
                namespace.delete()
