"""Building blocks for the setup endpoints of every app (/api/v2/setup/<kind>/).

Setup elements belong to a namespace and are written in JSON with the field
names of the domain model, referring to their namespace by name::

    {"namespace": "crm", "name": "Contact", ...}

:class:`NamespacedViewSet` shows a user only the elements of namespaces they
may view and refuses writes (403) in namespaces they may not change.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, viewsets
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.validators import UniqueTogetherValidator

from .. import permissions
from ..models import NAME_PATTERN, Namespace
from ..usage import describe_users, emptied_users


def as_drf_error(error: DjangoValidationError) -> DRFValidationError:
    """A model/service ValidationError as DRF's 400 with field errors."""
    if hasattr(error, "error_dict"):
        return DRFValidationError(error.message_dict)
    return DRFValidationError({"non_field_errors": error.messages})


MAX_ID = 2**63 - 1

# Query parameters every list takes besides its filters (pagination.py; DRF's format).
PAGING_PARAMS = ("page", "page_size", "format")


class ListFiltersSchema(AutoSchema):
    """The API's OpenAPI schema, with each list's filters (its view's ``list_filters``)
    among the query parameters of its GET."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        filters = getattr(self.view, "list_filters", None)
        if filters and self.method == "GET" and self._is_list_view():
            parameters = [
                *parameters,
                *(OpenApiParameter(name, str, description=text) for name, text in filters.items()),
            ]
        return parameters


class ListFilters:
    """A list's query parameters are its filters (``list_filters``: name -> what it
    narrows by) and paging; any other is a 400 naming the filters, where a misspelt one
    (``?stauts=failed``) was ignored and the whole list came back."""

    list_filters: dict[str, str] = {}

    def list(self, request, *args, **kwargs):
        unknown = sorted(set(request.query_params) - set(PAGING_PARAMS) - set(self.list_filters))
        if unknown:
            known = ", ".join(sorted(self.list_filters)) or "nothing"
            raise DRFValidationError(
                {name: f"Not a filter of this list: it is narrowed by {known}, and paged "
                 "with page and page_size." for name in unknown}
            )  # fmt: skip
        return super().list(request, *args, **kwargs)  # type: ignore[misc]


def element_name(raw: str) -> tuple[str, str] | None:
    """``(namespace, name)`` of a ``namespace.name`` reference, or None if it is not one."""
    namespace, dot, name = raw.partition(".")
    if dot and re.match(NAME_PATTERN, namespace) and re.match(NAME_PATTERN, name):
        return namespace, name
    return None


def narrowed(queryset, params, allowed: dict):
    """``queryset`` filtered by the query ``params`` named in ``allowed``: each maps to
    "id" (a row id), "element" (an element's id or its ``namespace.name``) or to the list
    of values it may take. A bad value is a 400."""
    for name, values in allowed.items():
        raw = params.get(name)
        if not raw:
            continue
        if values == "element" and not raw.isdigit():
            reference = element_name(raw)
            if reference is None:
                raise DRFValidationError(
                    {name: f"{raw!r} is neither an id nor a namespace.name (crm.import_contacts)."}
                )
            queryset = queryset.filter(
                **{f"{name}__namespace__name": reference[0], f"{name}__name": reference[1]}
            )
            continue
        if values in ("id", "element"):
            if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
                raise DRFValidationError({name: f"{raw!r} is not an id (a whole number)."})
            value: object = int(raw)
        elif raw not in values:
            raise DRFValidationError({name: f"{raw!r} is not one of {', '.join(values)}."})
        else:
            value = raw
        queryset = queryset.filter(**{name: value})
    return queryset


class StrictCharField(serializers.CharField):
    """Text, and only text: DRF's CharField would store ``7`` as "7" without a word."""

    default_error_messages = {"invalid": "Must be a string, not {kind}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", kind="null" if data is None else type(data).__name__)
        return super().to_internal_value(data)


class UniqueNameValidator(UniqueTogetherValidator):
    """An element's name taken in its namespace: say which element has it (DRF's own
    message was "The fields namespace, name must make a unique set.")."""

    def __call__(self, attrs, serializer):
        try:
            super().__call__(attrs, serializer)
        except DRFValidationError:
            model = serializer.Meta.model
            namespace = attrs.get("namespace") or getattr(serializer.instance, "namespace", None)
            name = attrs.get("name") or getattr(serializer.instance, "name", "")
            what = str(model._meta.verbose_name).capitalize()
            raise DRFValidationError(
                {
                    "name": f"{what} {namespace}.{name} exists already: choose another name, "
                    "or change that one."
                },
                code="unique",
            ) from None


class SetupSerializer(serializers.ModelSerializer):
    """The base of every setup element's serializer: text fields take only strings."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    def get_unique_together_validators(self):
        validators = super().get_unique_together_validators()
        for index, validator in enumerate(validators):
            if set(validator.fields) == {"namespace", "name"}:
                named = UniqueNameValidator(validator.queryset, validator.fields)
                validators[index] = named
        return validators


def actor_of(serializer: serializers.BaseSerializer):
    """The user a serializer saves for (services check their references with it)."""
    request = serializer.context.get("request")
    return request.user if request is not None else None


class NamespaceField(serializers.SlugRelatedField):
    """A namespace given by its name; only those the user can see exist for them."""

    # Worded as every other unknown reference is (apps.data.api.fields.ReferenceField).
    default_error_messages = {
        "does_not_exist": "There is no namespace {value} that you can see.",
        "invalid": "Expected the name of a namespace (a string).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "name")
        kwargs.setdefault("queryset", Namespace.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return permissions.namespaces_for(request.user if request else None, permissions.VIEW)


class Conflict(APIException):
    status_code = 409
    default_detail = "This conflicts with the current state of the element."
    default_code = "conflict"


class NamespacedViewSet(ListFilters, viewsets.ModelViewSet):
    """CRUD on elements with a ``namespace`` foreign key, under namespace permissions.

    Lists can be narrowed with ``?namespace=<name>`` and ``?name=<name>``; an element is
    addressed by its id or its ``namespace.name`` (``/api/v2/setup/flow/crm.import/``).
    """

    namespace_lookup = "namespace"
    list_filters = {"namespace": "the namespace's name", "name": "the element's name"}
    # An element's URL takes its id or its namespace.name: /setup/flow/crm.import_contacts/.
    lookup_value_regex = r"[^/]+"

    def get_object(self):
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if lookup.isdigit():
            return super().get_object()
        reference = element_name(lookup)
        if reference is None:
            raise NotFound(f"{lookup!r} is neither an id nor a namespace.name (crm.add).")
        element = (
            self.filter_queryset(self.get_queryset())
            .filter(**{f"{self.namespace_lookup}__name": reference[0], "name": reference[1]})
            .first()
        )
        if element is None:
            raise NotFound(
                f"No {self.queryset.model._meta.verbose_name} {lookup} that you may see."
            )
        self.check_object_permissions(self.request, element)
        return element

    def get_queryset(self):
        queryset = super().get_queryset()
        visible = permissions.namespaces_for(self.request.user, permissions.VIEW)
        queryset = queryset.filter(**{f"{self.namespace_lookup}__in": visible})
        params = self.request.query_params
        if params.get("namespace"):
            queryset = queryset.filter(**{f"{self.namespace_lookup}__name": params["namespace"]})
        if params.get("name"):
            queryset = queryset.filter(name=params["name"])
        return queryset

    def namespace_of(self, instance) -> Namespace:
        return instance.namespace

    def require_change(self, namespace: Namespace) -> None:
        if not permissions.can_change(self.request.user, namespace):
            raise PermissionDenied(f"You may not change elements of namespace '{namespace.name}'.")

    def perform_create(self, serializer):
        self.require_change(serializer.validated_data["namespace"])
        self.save(serializer)

    def perform_update(self, serializer):
        self.require_change(self.namespace_of(serializer.instance))
        if "namespace" in serializer.validated_data:
            self.require_change(serializer.validated_data["namespace"])
        self.save(serializer)

    def perform_destroy(self, instance):
        self.require_change(self.namespace_of(instance))
        users = describe_users(emptied_users(instance))
        if users:
            raise Conflict(
                f"{instance._meta.verbose_name.capitalize()} {instance} is still used by: "
                f"{', '.join(users)}. Change or delete those first."
            )
        instance.delete()

    def save(self, serializer) -> None:
        """Write through the element's service; Django ValidationErrors become 400s."""
        try:
            serializer.save()
        except DjangoValidationError as error:
            raise as_drf_error(error) from None
