"""Records of a data type at /api/v2/<namespace>/<data_type>/[<key>/].

List (paginated, ``?page_size=``, filters on data fields), create one record
or a list of them (bulk: invalid ones are reported, valid ones stored),
retrieve, replace (PUT), merge (PATCH) and delete by key.

Filters: any other query parameter names a data field, ``__`` goes into nested
objects and may end with a lookup, e.g. ``?address__city=Paris&age__gte=30``.
Values are read with the type the schema gives the field.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.module_loading import import_string
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from .. import permissions, services
from ..definitions import cached, one_read
from ..models import DataType, Record
from .filters import RESERVED_PARAMS, filter_records
from .parsers import JSONParser
from .serializers import RecordSerializer
from .setup import as_drf_error

ORDERINGS = {"key", "-key", "created_at", "-created_at", "updated_at", "-updated_at"}


class RecordsMixin(GenericAPIView):
    serializer_class = RecordSerializer
    # Records are JSON: a form-encoded body (curl -d without a Content-Type) is a 415
    # that says so, not a record whose fields are the form's.
    parser_classes = [JSONParser]

    def dispatch(self, request, *args, **kwargs):
        # One read of the definitions token for the data type and the observers it fires.
        with one_read():
            return super().dispatch(request, *args, **kwargs)

    def data_type(self, *, change: bool = False) -> DataType:
        if not hasattr(self, "_data_type"):
            namespace, name = self.kwargs["namespace"], self.kwargs["data_type"]
            # The data type as the definitions cache has it (a shared instance: read only),
            # then whether this user may see its namespace.
            found = cached(
                ("data type", namespace, name),
                lambda: (
                    DataType.objects.select_related("namespace")
                    .filter(namespace__name=namespace, name=name)
                    .first()
                ),
            )
            if found is None or not permissions.can_view(self.request.user, found.namespace):
                raise NotFound(
                    f"No data type {namespace}.{name} that you may see: records are at "
                    "/api/v2/<namespace>/<data type>/, and the setup endpoints are listed at "
                    "/api/v2/."
                )
            self._data_type = found
            self._may_change: bool | None = None
        data_type = self._data_type
        if change:
            if self._may_change is None:
                self._may_change = permissions.can_change(self.request.user, data_type.namespace)
            if not self._may_change:
                raise PermissionDenied(
                    f"You may not change records of namespace '{data_type.namespace.name}'."
                )
        return data_type

    def save_one(self, data: Any, key: str | None = None) -> tuple[Record, bool]:
        try:
            return services.record_save(data_type=self.data_type(change=True), data=data, key=key)
        except DjangoValidationError as error:
            raise ValidationError({"data": error.messages}) from None


class RecordListView(RecordsMixin):
    """GET: the records, paginated and filtered. POST: one record or a list of them."""

    def get_queryset(self):
        data_type = self.data_type()
        ordering = self.request.query_params.get("ordering", "key")
        if ordering not in ORDERINGS:
            raise ValidationError({"ordering": f"one of {', '.join(sorted(ORDERINGS))}"})
        records = filter_records(
            Record.objects.filter(data_type=data_type), data_type, self.request.query_params
        )
        if ordering.endswith("key"):  # integer keys as numbers: 1, 2, 10, 100
            return records.in_key_order(descending=ordering.startswith("-"))
        return records.order_by(ordering)

    @extend_schema(operation_id="records_list")
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request, *args, **kwargs):
        data_type = self.data_type(change=True)
        body = request.data
        if request.query_params.get("async") in {"1", "true"}:
            records = body if isinstance(body, list) else [body]
            # A background job is a Task of the engine, named by a setting so that
            # the data app does not import the apps built on it.
            enqueue = import_string(settings.RECORDS_ASYNC_IMPORT)
            task = enqueue(data_type=data_type, records=records, actor=request.user)
            return Response(
                {"task": task.pk, "status": task.status, "records": len(records),
                 "url": f"/api/v2/setup/task/{task.pk}/"},
                status.HTTP_202_ACCEPTED,
            )  # fmt: skip
        if isinstance(body, list):
            result = services.records_save(data_type=data_type, records=body)
            stored = result.created + result.updated + result.unchanged
            code = status.HTTP_400_BAD_REQUEST if body and not stored else status.HTTP_200_OK
            return Response(result.as_dict(), status=code)
        record, created = self.save_one(body)
        return Response(
            self.get_serializer(record).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(operation_id="records_bulk_delete")
    def delete(self, request, *args, **kwargs):
        """Delete the records the query's filters match (``?status=old``); every record of
        the data type only with ``?all=1``, so that a bare DELETE removes nothing."""
        data_type = self.data_type(change=True)
        params = request.query_params.copy()
        given = params.pop("all", [""])[-1]
        if given not in {"", "1", "true"}:
            raise ValidationError({"all": f"?all=1 deletes every record, not ?all={given}."})
        everything = bool(given)
        if not set(params) - RESERVED_PARAMS and not everything:
            raise ValidationError(
                {"all": f"Give filters (?field=value) to choose the records to delete, or "
                        f"?all=1 to delete every record of {data_type}."}
            )  # fmt: skip
        records = filter_records(Record.objects.filter(data_type=data_type), data_type, params)
        deleted, _ = records.delete()
        return Response({"deleted": deleted})


class RecordDetailView(RecordsMixin):
    """GET, PUT (replace), PATCH (merge top-level fields) and DELETE one record by key."""

    def get_object(self) -> Record:
        try:
            return Record.objects.get(data_type=self.data_type(), key=self.kwargs["key"])
        except Record.DoesNotExist:
            message = f"No record with key {self.kwargs['key']!r}."
            if not self.data_type().primary_key:
                message += " This data type's keys are generated: POST the record to create it."
            raise NotFound(message) from None

    @extend_schema(operation_id="records_retrieve")
    def get(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    def put(self, request, *args, **kwargs):
        """Replace the record at this key, or create it there (201): the data's primary key
        must be the URL's. A data type whose keys the platform generates gets its new
        records by POST."""
        data_type = self.data_type(change=True)
        key = self.kwargs["key"]
        if not data_type.primary_key:
            key = self.get_object().key
        record, created = self.save_one(request.data, key=key)
        return Response(
            self.get_serializer(record).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def patch(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            raise ValidationError({"data": ["A PATCH body must be a JSON object."]})
        with transaction.atomic():
            record = self.get_object()
            record, _ = self.save_one({**record.data, **request.data}, key=record.key)
        return Response(self.get_serializer(record).data)

    def delete(self, request, *args, **kwargs):
        self.data_type(change=True)
        services.record_delete(record=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


__all__ = ["RecordDetailView", "RecordListView", "as_drf_error"]
