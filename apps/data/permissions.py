"""Who may see and change what: object permissions granted per namespace.

Every setup element and record belongs to a namespace. A user sees the
elements of the namespaces they may view and changes those of the namespaces
they may change (django-guardian object permissions ``view_namespace`` and
``change_namespace``; the same permission granted globally covers every
namespace). Superusers see and change everything. The admin and the API of
every app use these functions, so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user, get_users_with_perms

from .models import Namespace

VIEW = "data.view_namespace"
CHANGE = "data.change_namespace"


def namespaces_for(user, permission: str = VIEW) -> QuerySet[Namespace]:
    """The namespaces on which ``user`` holds ``permission`` (VIEW or CHANGE).

    Change implies view: a user who may change a namespace may also see it.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return Namespace.objects.none()
    if user.is_superuser:
        return Namespace.objects.all()
    perms = [CHANGE] if permission == CHANGE else [VIEW, CHANGE]
    return get_objects_for_user(
        user, perms, klass=Namespace, any_perm=True, accept_global_perms=True, with_superuser=False
    )


def _superuser(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def can_view(user, namespace: Namespace) -> bool:
    if _superuser(user):  # every namespace: no query needed
        return True
    return namespaces_for(user, VIEW).filter(pk=namespace.pk).exists()


def can_change(user, namespace: Namespace) -> bool:
    if _superuser(user):
        return True
    return namespaces_for(user, CHANGE).filter(pk=namespace.pk).exists()


def grant(user, namespace: Namespace, *, change: bool = False) -> None:
    """Let ``user`` see (and, with ``change``, change) everything in ``namespace``."""
    assign_perm(VIEW, user, namespace)
    if change:
        assign_perm(CHANGE, user, namespace)


# --- references across namespaces ------------------------------------------------------
#
# Viewing is not using. An element may refer to an element of another namespace
# (a connection to an authorization, a flow to a translator, a translator to a
# target data type…) only when
#
# * the user saving it may change that other namespace (the actor rule), and
# * everyone who may change the referring element's namespace may change the
#   other namespace too (the namespace rule): otherwise one of them could
#   redirect what the reference gives (a base URL changed under another
#   namespace's credentials, records written into another namespace).
#
# Saves check both (:func:`references_check`, from the services' one write path
# and the admin's forms); runs check the namespace rule again on every reference
# they use (:func:`use_check`), so a permission taken away later, or a row
# written around the services, stops the run rather than the secret.


class CrossNamespaceDenied(PermissionDenied):
    """A run would use an element of another namespace that the namespace rule forbids."""

    code = "cross_namespace"


def _is_element(model) -> bool:
    return any(field.name == "namespace" for field in model._meta.concrete_fields)


def _referenced(element, values: Mapping[str, Iterable] | None, fields: Iterable[str] | None):
    """(field name, referred element) of every reference of ``element`` to another
    namespace; ``values`` gives many-to-many values not set yet."""
    meta, values = element._meta, values or {}
    wanted = set(fields) if fields is not None else None
    for field in meta.concrete_fields:
        if (
            not field.many_to_one
            or field.name == "namespace"
            or not _is_element(field.related_model)
        ):
            continue
        if (wanted is None or field.name in wanted) and getattr(element, field.attname):
            yield field, getattr(element, field.name)
    for field in meta.many_to_many:
        if not _is_element(field.related_model) or (
            wanted is not None and field.name not in wanted
        ):
            continue
        if field.name in values:
            targets = values[field.name] or []
        elif element.pk:
            targets = getattr(element, field.name).select_related("namespace")
        else:
            targets = []
        for target in targets:
            yield field, target


def changers_outside(namespace: Namespace, other: Namespace) -> int:
    """How many active users may change ``namespace`` but not ``other``."""
    changers = get_users_with_perms(
        namespace,
        with_superusers=False,
        with_group_users=True,
        only_with_perms_in=["change_namespace"],
    )
    outside = 0
    for user in changers:
        if getattr(user, "is_active", False) and not can_change(user, other):
            outside += 1
    return outside


def _namespace_rule(element, target) -> str:
    outside = changers_outside(element.namespace, target.namespace)
    if not outside:
        return ""
    users = "1 user" if outside == 1 else f"{outside} users"
    return (
        f"{element.namespace.name} may not use {target._meta.verbose_name} {target}: "
        f"{users} who may change namespace '{element.namespace.name}' may not change "
        f"'{target.namespace.name}' and could use it through this reference."
    )


def reference_problems(
    element, *, actor=None, values: Mapping[str, Iterable] | None = None
) -> dict[str, list[str]]:
    """What is wrong with ``element``'s references to other namespaces, by field name."""
    problems: dict[str, list[str]] = {}
    if getattr(element, "namespace_id", None) is None:  # not an element, or no namespace yet
        return problems
    changeable: dict[int, bool] = {}
    for field, target in _referenced(element, values, None):
        if target.namespace_id == element.namespace_id:
            continue
        if actor is not None and target.namespace_id not in changeable:
            changeable[target.namespace_id] = can_change(actor, target.namespace)
        if actor is not None and not changeable[target.namespace_id]:
            message = (
                f"You may not use {target._meta.verbose_name} {target}: elements may refer to "
                f"another namespace's elements only where you may change them, and you may "
                f"not change namespace '{target.namespace.name}'."
            )
        else:
            message = _namespace_rule(element, target)
        if message:
            problems.setdefault(field.name, []).append(message)
    return problems


def references_check(element, *, actor=None, values: Mapping[str, Iterable] | None = None) -> None:
    """Raise ValidationError (by field) unless every reference of ``element`` to another
    namespace is allowed for ``actor`` (None: a system write, the namespace rule only)."""
    problems = reference_problems(element, actor=actor, values=values)
    if problems:
        raise ValidationError(problems, code="cross_namespace")


def use_check(element, fields: Iterable[str] | None = None) -> None:
    """At run time: raise CrossNamespaceDenied unless the namespace rule allows each
    stored reference of ``element`` (those of ``fields``, or all) to another namespace."""
    if element is None:
        return
    for _field, target in _referenced(element, None, fields):
        if target.namespace_id != element.namespace_id:
            message = _namespace_rule(element, target)
            if message:
                raise CrossNamespaceDenied(f"{element}: {message}")
