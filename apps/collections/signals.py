"""Receivers: a deleted element leaves its collections. Thin on purpose."""

from __future__ import annotations


def element_deleted(sender, instance, **kwargs) -> None:
    from .kinds import kinds_of_model
    from .models import CollectionElement

    kinds = [kind.name for kind in kinds_of_model(type(instance))]
    CollectionElement.objects.filter(kind__in=kinds, object_id=instance.pk).delete()
