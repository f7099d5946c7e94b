"""Resolving ``namespace.name`` references (or a bare name in a default namespace)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist


class UnknownReference(LookupError):
    code = "unknown_reference"


def split(reference: str, default_namespace=None) -> tuple[str, str]:
    if "." in reference:
        namespace, name = reference.split(".", 1)
        return namespace, name
    if default_namespace is None:
        raise UnknownReference(f"{reference!r}: write namespace.name")
    return default_namespace.name, reference


def resolve(model, reference: str, *, default_namespace=None):
    namespace, name = split(str(reference), default_namespace)
    try:
        return model.objects.select_related("namespace").get(namespace__name=namespace, name=name)
    except ObjectDoesNotExist:
        raise UnknownReference(f"No {model._meta.verbose_name} {namespace}.{name}.") from None
