"""Who may see and change what: object permissions granted per namespace.

Every setup element and record belongs to a namespace. A user sees the
elements of the namespaces they may view and changes those of the namespaces
they may change (django-guardian object permissions ``view_namespace`` and
``change_namespace``; the same permission granted globally covers every
namespace). Superusers see and change everything. The admin and the API of
every app use these functions, so the rules live in one place.
"""

from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import assign_perm, get_objects_for_user

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


def can_view(user, namespace: Namespace) -> bool:
    return namespaces_for(user, VIEW).filter(pk=namespace.pk).exists()


def can_change(user, namespace: Namespace) -> bool:
    return namespaces_for(user, CHANGE).filter(pk=namespace.pk).exists()


def grant(user, namespace: Namespace, *, change: bool = False) -> None:
    """Let ``user`` see (and, with ``change``, change) everything in ``namespace``."""
    assign_perm(VIEW, user, namespace)
    if change:
        assign_perm(CHANGE, user, namespace)
