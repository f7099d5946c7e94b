"""Which configuration elements use an element through a reference that a delete would empty.

Most references between elements protect what they point at (deleting a data type
that a translator uses is refused). A few are emptied instead (``SET_NULL``: a
webhook's connection, a connection's authorization, a flow's event), and a delete
through the API or the admin used to succeed silently and leave flows that fail at
their next run ("Webhook crm.get_customers has no default connection"). Those
deletes are refused too, naming the elements that still use it; tasks, logs and
other history keep pointing at nothing, as before.
"""

from __future__ import annotations

from typing import Any

from django.db import models

LIMIT = 20


def _is_element(model) -> bool:
    names = {field.name for field in model._meta.concrete_fields}
    return {"namespace", "name"} <= names


def emptied_users(instance: models.Model) -> list[tuple[models.Model, str]]:
    """(element, field name) of the elements whose reference to ``instance`` a delete empties."""
    found: list[tuple[models.Model, str]] = []
    for relation in instance._meta.related_objects:
        if relation.on_delete is not models.SET_NULL or not _is_element(relation.related_model):
            continue
        field = relation.field
        model: Any = relation.related_model
        for user in model._default_manager.filter(**{field.name: instance})[:LIMIT]:
            found.append((user, str(field.verbose_name or field.name)))
    return found


def describe(instance: models.Model) -> str:
    """'translator crm.contact_body': an element as messages about its uses name it."""
    return f"{instance._meta.verbose_name} {instance}"


def describe_users(users: list[tuple[models.Model, str]]) -> list[str]:
    return sorted(f"{describe(user)} (its {field})" for user, field in users)
