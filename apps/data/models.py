"""Namespaces, data types and records: the platform's typed JSON storage."""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Cast

from .encoding import DIGEST_LENGTH, record_digest

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
name_validator = RegexValidator(
    NAME_PATTERN,
    "Use letters, digits, '_' and '-', starting with a letter or '_' "
    "(names appear in URLs and in references like 'namespace.name').",
    code="invalid_name",
)


# Path segments of /api/v2/ that a namespace cannot take.
# The API's own first path segments: a namespace of that name would have its records at
# URLs the API already uses (/api/v2/connector_factory/connector/ is the Connector Factory).
RESERVED_NAMESPACES = {"setup", "auth", "schema", "docs", "connector_factory"}


def not_reserved(value: str) -> None:
    if value.lower() in RESERVED_NAMESPACES:
        raise ValidationError(
            "%(value)r is reserved for the API's own paths; choose another name.",
            code="reserved_name",
            params={"value": value},
        )


class NamespaceQuerySet(models.QuerySet):
    def by_name(self, name: str) -> Namespace:
        return self.get(name=name)


class Namespace(models.Model):
    """A home for configuration elements.

    Every element (data type, connection, flow…) belongs to one namespace and
    has a name unique within it, so ``namespace.name`` refers to it everywhere.
    Object permissions are granted per namespace.
    """

    name = models.CharField(
        "name",
        max_length=100,
        unique=True,
        validators=[name_validator, not_reserved],
        help_text="Unique; used in URLs and in references such as 'crm.Contact'.",
    )
    title = models.CharField("title", max_length=200, blank=True, help_text="A human title.")
    description = models.TextField(
        "description", blank=True, help_text="What this namespace holds."
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    objects = NamespaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "namespace"

    def __str__(self) -> str:
        return self.name


class NamespacedElement(models.Model):
    """A configuration element: a name unique within its namespace.

    The base of every app's setup elements (authorizations, connections,
    webhooks, translators, flows…): ``namespace.name`` refers to one anywhere,
    and namespace permissions decide who sees and changes it. Subclasses add
    ``UniqueConstraint(fields=["namespace", "name"])`` to their Meta.
    """

    namespace = models.ForeignKey(
        Namespace,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="namespace",
        help_text="The namespace this element belongs to.",
    )
    name = models.CharField(
        "name",
        max_length=100,
        validators=[name_validator],
        help_text="Unique within the namespace; 'namespace.name' refers to it.",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        abstract = True
        ordering = ["namespace__name", "name"]

    def __str__(self) -> str:
        return f"{self.namespace.name}.{self.name}"

    @property
    def reference(self) -> str:
        return str(self)


def unique_name_constraint(app_label: str, model: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["namespace", "name"], name=f"{app_label}_{model}_unique_name"
    )


class DataType(models.Model):
    """A JSON-Schema-typed kind of record (Cenit's JSON data type).

    The schema is checked against its metaschema on every save; records are
    validated against it by a validator compiled once per schema version.
    """

    namespace = models.ForeignKey(
        Namespace,
        on_delete=models.CASCADE,
        related_name="data_types",
        verbose_name="namespace",
        help_text="The namespace this data type belongs to.",
    )
    name = models.CharField(
        "name",
        max_length=100,
        validators=[name_validator],
        help_text="Unique within the namespace, e.g. 'Contact'.",
    )
    title = models.CharField("title", max_length=200, blank=True, help_text="A human title.")
    schema = models.JSONField(
        "JSON Schema",
        default=dict,
        help_text="A JSON Schema (draft 2020-12 unless '$schema' says otherwise) for the records.",
    )
    primary_key = models.CharField(
        "primary key",
        max_length=100,
        default="id",
        blank=True,
        help_text="The record field whose value identifies a record (its key). Records are "
        "upserted by it. Leave empty to give every record a generated key.",
    )
    new_key_prefix = models.CharField(
        "new key prefix",
        max_length=60,
        blank=True,
        default="",
        help_text="When set, a record that comes without its primary key (or with it empty) "
        "gets one: this prefix and a random part. Connector data types use "
        "'PENDING-PUBLISH-FROM-': such a record is created remotely, then takes the remote id.",
    )
    schema_version = models.PositiveIntegerField(
        "schema version",
        default=1,
        editable=False,
        help_text="Grows by one whenever the schema changes.",
    )
    schema_digest = models.CharField(max_length=64, editable=False, blank=True)
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["namespace__name", "name"]
        verbose_name = "data type"
        constraints = [
            models.UniqueConstraint(fields=["namespace", "name"], name="data_datatype_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.namespace.name}.{self.name}"

    def save(self, *args, **kwargs) -> None:
        # The schema is checked on every save, whatever the caller (admin, API,
        # shell, collections): an invalid schema never reaches the database.
        from .validation import check_schema

        check_schema(self.schema, primary_key=self.primary_key)
        digest = self.digest(self.schema)
        if self.schema_digest and digest != self.schema_digest:
            self.schema_version += 1
        self.schema_digest = digest
        super().save(*args, **kwargs)

    @property
    def reference(self) -> str:
        return str(self)

    @staticmethod
    def digest(schema: object) -> str:
        canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def clean(self) -> None:
        from .validation import check_schema

        # Each problem under the field it belongs to (forms show it there; the API too).
        try:
            check_schema(self.schema)
        except ValidationError as error:
            raise ValidationError({"schema": error.error_list}) from None
        try:
            check_schema(self.schema, primary_key=self.primary_key)
        except ValidationError as error:
            raise ValidationError({"primary_key": error.error_list}) from None


RECORD_KEY_MAX_LENGTH = 255


# Keys that are integers (up to 18 digits: they fit a 64-bit integer) sort as numbers.
INTEGER_KEY = r"^-?[0-9]{1,18}$"


class RecordQuerySet(models.QuerySet):
    def of(self, data_type: DataType) -> RecordQuerySet:
        return self.filter(data_type=data_type)

    def with_key_number(self) -> RecordQuerySet:
        """Annotate ``key_number``: the key as an integer when it is one, else null."""
        number = models.Case(
            models.When(key__regex=INTEGER_KEY, then=Cast("key", models.BigIntegerField())),
            default=None,
            output_field=models.BigIntegerField(),
        )
        return self.annotate(key_number=number)

    @staticmethod
    def key_order(*, descending: bool = False) -> list:
        """Order by key with integer keys as numbers (1, 2, 10, 100), then text keys."""
        number = models.F("key_number")
        if descending:
            return [number.desc(nulls_first=True), "-key"]
        return [number.asc(nulls_last=True), "key"]

    def in_key_order(self, *, descending: bool = False) -> RecordQuerySet:
        return self.with_key_number().order_by(*self.key_order(descending=descending))

    def update(self, **kwargs):
        # Data changed in SQL leaves the digest unknown (compared by data), never stale.
        if "data" in kwargs and "digest" not in kwargs:
            kwargs["digest"] = ""
        return super().update(**kwargs)


class Record(models.Model):
    """One JSON document of a data type, identified by its key."""

    data_type = models.ForeignKey(
        DataType,
        on_delete=models.CASCADE,
        related_name="records",
        verbose_name="data type",
        help_text="The data type whose schema this record satisfies.",
        db_index=False,  # the (data_type, key) unique index serves lookups by data type
    )
    key = models.CharField(
        "key",
        max_length=RECORD_KEY_MAX_LENGTH,
        help_text="The value of the data type's primary key field; unique per data type.",
    )
    data = models.JSONField("data", default=dict, help_text="The record itself.")
    digest = models.CharField(
        "digest",
        max_length=DIGEST_LENGTH,
        blank=True,
        editable=False,
        help_text="A digest of the data's JSON text: re-imports compare it, not the data.",
    )
    # Not indexed: every index slows the bulk upserts that imports depend on.
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["data_type", "key"]
        verbose_name = "record"
        constraints = [
            models.UniqueConstraint(fields=["data_type", "key"], name="data_record_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.data_type} {self.key}"  # crm.Contact 9001

    def save(self, *args, **kwargs) -> None:
        # Whatever writes the data writes its digest: a stale one would hide a change.
        self.digest = record_digest(self.data)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "data" in update_fields:
            kwargs["update_fields"] = {*update_fields, "digest"}
        super().save(*args, **kwargs)


class Definitions(models.Model):
    """One row: a token replaced by every write of a configuration element, so that a
    process knows whether what it cached of the definitions still holds
    (:mod:`apps.data.definitions`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    class Meta:
        db_table = "data_definitions"
        verbose_name = "definitions token"
        default_permissions = ()

    def __str__(self) -> str:
        return self.token
