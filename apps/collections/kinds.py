"""The kinds of elements a collection holds, described once, and how each travels.

A :class:`Kind` names a model, the key of its list in a document, the service
that saves it (the element's own, so that everything is validated exactly as on
any other save: schemas checked, algorithms compiled, schedulers synced) and the
few fields that never travel (state the platform obtains by itself, such as
OAuth 2.0 access tokens). Everything else is read from the model:

* every editable field travels;
* foreign keys and many-to-many fields become ``"namespace.name"`` references;
* encrypted fields (:class:`~apps.security.fields.EncryptedTextField`) become
  named secret placeholders, never their values.

So a field added to a model travels without a change here, and a field of a
type this module cannot write fails loudly (:func:`field_shape` raises, and
``tests/collections/test_kinds.py`` calls it for every field) instead of being
dropped silently.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from apps.data.models import DataType
from apps.data.services import data_type_save
from apps.gateway.models import Connection, ConnectionRole, Webhook
from apps.gateway.services import connection_role_save, connection_save, webhook_save
from apps.security.fields import EncryptedTextField
from apps.security.models import Authorization, AuthorizationClient, AuthorizationProvider
from apps.security.services import (
    authorization_client_save,
    authorization_provider_save,
    authorization_save,
)
from apps.workflows.models import Algorithm, Event, Flow, Observer, Scheduler, Translator
from apps.workflows.services import element_save

# Every element has these; they are the element's identity or bookkeeping, not its content.
IDENTITY = ("namespace", "name")
BOOKKEEPING = {"id", "created_at", "updated_at"}

REFERENCE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*\.[A-Za-z_][A-Za-z0-9_\-]*$"


@dataclass(frozen=True)
class Kind:
    """One kind of element: how it is found, exported and saved."""

    name: str  # as in the API: /api/v2/setup/<name>/
    plural: str  # the key of its list in a document
    model: type[models.Model]
    service: Callable[..., Any]  # service(namespace=, name=, instance=, **fields) -> element
    skip: tuple[str, ...] = ()  # fields that never travel
    fixed: Mapping[str, Any] = field(default_factory=dict)  # set on save; tells kinds apart
    optional_secrets: tuple[str, ...] = ()  # placeholders a user may leave out
    activation: str | None = None  # arrives False unless the user asks to activate

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def objects(self) -> models.Manager:
        return self.model._default_manager  # Observer/Scheduler managers narrow to their kind

    @cached_property
    def fields(self) -> tuple[models.Field, ...]:
        """The fields that travel, in model order (many-to-many last)."""
        meta = self.model._meta
        skipped = {*IDENTITY, *BOOKKEEPING, *self.skip, *self.fixed}
        concrete = [
            f
            for f in meta.concrete_fields
            if f.editable and not f.primary_key and f.name not in skipped
        ]
        many = [f for f in meta.many_to_many if f.name not in skipped]
        return (*concrete, *many)

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if isinstance(f, EncryptedTextField))

    def save(self, *, namespace, name: str, instance, fields: dict[str, Any], actor=None):
        """Through the element's service; ``actor`` (the installing user) must be allowed
        the references to other namespaces (apps.data.permissions.references_check)."""
        return self.service(
            namespace=namespace, name=name, instance=instance, actor=actor, **fields
        )

    def __str__(self) -> str:
        return self.name


def _workflows(model) -> Callable[..., Any]:
    return functools.partial(element_save, model=model)


def _data_type(*, namespace, name, instance, actor=None, **fields):
    # A data type refers to no other element: there is nothing to check for the actor.
    return data_type_save(namespace=namespace, name=name, instance=instance, **fields)


_OBSERVER_ONLY = ("data_type", "on_created", "on_updated", "conditions", "trigger_evaluator")

# In install order: every reference points to a kind listed before it.
KINDS: tuple[Kind, ...] = (
    Kind("authorization_provider", "authorization_providers", AuthorizationProvider,
         authorization_provider_save),
    Kind("authorization_client", "authorization_clients", AuthorizationClient,
         authorization_client_save),
    Kind("authorization", "authorizations", Authorization, authorization_save,
         # Obtained from the provider by each installation (Authorize, client credentials).
         skip=("access_token", "token_type", "expires_at", "authorized"),
         optional_secrets=("refresh_token",)),
    Kind("data_type", "data_types", DataType, _data_type),
    Kind("connection", "connections", Connection, connection_save),
    Kind("webhook", "webhooks", Webhook, webhook_save),
    Kind("connection_role", "connection_roles", ConnectionRole, connection_role_save),
    Kind("algorithm", "algorithms", Algorithm, _workflows(Algorithm)),
    Kind("translator", "translators", Translator, _workflows(Translator)),
    Kind("observer", "observers", Observer, _workflows(Observer), skip=("expression",),
         fixed={"kind": Event.Kind.OBSERVER}, activation="active"),
    Kind("scheduler", "schedulers", Scheduler, _workflows(Scheduler), skip=_OBSERVER_ONLY,
         fixed={"kind": Event.Kind.SCHEDULER}, activation="active"),
    Kind("flow", "flows", Flow, _workflows(Flow)),
)  # fmt: skip

BY_NAME = {kind.name: kind for kind in KINDS}
BY_PLURAL = {kind.plural: kind for kind in KINDS}


def kinds_of_model(model: type[models.Model]) -> list[Kind]:
    """The kinds stored in ``model``'s table (observers and schedulers share one)."""
    concrete = concrete_model(model)
    return [kind for kind in KINDS if concrete_model(kind.model) is concrete]


def kind_of(element: models.Model) -> Kind:
    for kind in kinds_of_model(type(element)):
        if all(getattr(element, name) == value for name, value in kind.fixed.items()):
            return kind
    raise ImproperlyConfigured(f"{type(element).__name__} is not an element a collection holds")


def concrete_model(model: type[models.Model]) -> type[models.Model]:
    return model._meta.concrete_model or model


def table_of(kind: Kind) -> str:
    """Names are unique per table: an observer and a scheduler cannot share one."""
    return concrete_model(kind.model)._meta.label


def reference(element: models.Model) -> str:
    return f"{element.namespace.name}.{element.name}"  # type: ignore[attr-defined]


def target_kinds(model_field: models.Field) -> list[Kind]:
    """The kinds a reference field may point to; raises when it points to no kind."""
    related = model_field.related_model
    kinds = kinds_of_model(related) if isinstance(related, type) else []
    if not kinds:
        raise ImproperlyConfigured(
            f"{model_field.model.__name__}.{model_field.name} refers to {related}, which no "
            "collection kind describes: add it to apps.collections.kinds.KINDS or skip the field."
        )
    return kinds


# --- how values travel ---------------------------------------------------------------


def field_shape(model_field: models.Field) -> str:
    """What a field is in a document: reference, references, secret, json or a scalar type."""
    if model_field.many_to_many:
        target_kinds(model_field)
        return "references"
    if model_field.is_relation:
        if not (model_field.many_to_one or model_field.one_to_one):
            raise ImproperlyConfigured(f"{model_field} is a relation collections cannot write")
        target_kinds(model_field)
        return "reference"
    if isinstance(model_field, EncryptedTextField):
        return "secret"
    shapes = [
        (models.JSONField, "json"),
        (models.BooleanField, "boolean"),
        (models.IntegerField, "integer"),
        (models.FloatField, "number"),
        (models.DateTimeField, "datetime"),
        (models.CharField, "string"),
        (models.TextField, "string"),
    ]
    for field_class, shape in shapes:
        if isinstance(model_field, field_class):
            return shape
    raise ImproperlyConfigured(
        f"{model_field.model.__name__}.{model_field.name}: collections cannot write a "
        f"{type(model_field).__name__}; teach apps.collections.kinds.field_shape about it."
    )


def canonical(value: Any) -> Any:
    """JSON with sorted object keys at every level: the same bytes on every database."""
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def default_of(model_field: models.Field) -> Any:
    """What a field left out of a document is: the model's default."""
    shape = field_shape(model_field)
    if shape == "references":
        return []
    if shape == "reference":
        return None
    return canonical(model_field.get_default())


def exported_value(model_field: models.Field, element: models.Model, placeholder) -> Any:
    """A field's value in a document; ``placeholder(field_name)`` names a set secret."""
    shape = field_shape(model_field)
    if shape == "references":
        return sorted(reference(o) for o in getattr(element, model_field.name).all())
    if shape == "reference":
        related = getattr(element, model_field.name)
        return reference(related) if related is not None else None
    value = model_field.value_from_object(element)
    if shape == "secret":
        return {"$secret": placeholder(model_field.name)} if value not in (None, "") else ""
    return canonical(value)


# --- what an element needs -------------------------------------------------------------

# api.<call>("name") in algorithm code, and the kind it names.
API_CALLS = {"run": "algorithm", "fetch": "webhook", "submit": "webhook", "records": "data_type"}


def code_references(code: str) -> list[tuple[str, str]]:
    """(kind, name) of what an algorithm calls by name: ``api.run("x")``, ``api.fetch("w")``…"""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "api"
            and node.func.attr in API_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((API_CALLS[node.func.attr], node.args[0].value))
    return found


def dependencies(kind: Kind, element: models.Model) -> Iterator[models.Model]:
    """The elements ``element`` refers to: its references, and what its code calls by name."""
    for model_field in kind.fields:
        shape = field_shape(model_field)
        if shape == "references":
            yield from getattr(element, model_field.name).all()
        elif shape == "reference":
            related = getattr(element, model_field.name)
            if related is not None:
                yield related
    if kind.name == "algorithm":
        namespace = element.namespace  # type: ignore[attr-defined]
        for kind_name, name in code_references(element.code):  # type: ignore[attr-defined]
            space, _, bare = name.rpartition(".")
            if space and space != namespace.name:
                continue  # algorithms reach only their own namespace
            found = BY_NAME[kind_name].objects.filter(namespace=namespace, name=bare).first()
            if found is not None:
                yield found
