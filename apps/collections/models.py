"""Collections: named, versioned bundles of setup elements that travel between installations.

A :class:`Collection` is namespace-independent: it holds elements of any
namespaces. Which elements it holds is recorded in :class:`CollectionElement`,
one generic membership row per element (its kind and id), rather than a
``collection`` column on every element model:

* an element may belong to several collections (a data type shared by two
  integrations), which a column could not say;
* the element models of the other apps stay as they are (no migration, no
  import of this app from below it: imports point down the stack);
* the kinds a collection can hold are listed once, in :mod:`apps.collections.kinds`.
"""

from __future__ import annotations

import semver
from django.core.exceptions import ValidationError
from django.db import models

from apps.data.models import name_validator


def semantic_version_validator(value: str) -> None:
    if not semver.Version.is_valid(value):
        raise ValidationError(
            "%(value)r is not a semantic version; write MAJOR.MINOR.PATCH, e.g. '1.0.0' "
            "or '2.1.0-beta.1'.",
            code="invalid_version",
            params={"value": value},
        )


def authors_validator(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value):
        raise ValidationError(
            'A list of names, e.g. ["Ann Smith (ann@example.com)"].', code="invalid_authors"
        )


class Collection(models.Model):
    """A bundle of elements that is exported to one JSON document and installed anywhere.

    Built by adding elements (each pulls in what it depends on, so a collection is
    always complete) or by installing a document; installed elements remember
    their collection, so a newer version can update them in place and remove
    those it no longer holds.
    """

    name = models.CharField(
        "name",
        max_length=100,
        unique=True,
        validators=[name_validator],
        help_text="Unique; names the collection in commands and documents, e.g. 'crm_sync'.",
    )
    title = models.CharField("title", max_length=200, blank=True, help_text="A human title.")
    version = models.CharField(
        "version",
        max_length=50,
        default="1.0.0",
        validators=[semantic_version_validator],
        help_text="A semantic version (MAJOR.MINOR.PATCH). Installing a document of a lower "
        "version than the one installed is refused unless forced.",
    )
    description = models.TextField("description", blank=True, help_text="What it integrates.")
    authors = models.JSONField(
        "authors",
        default=list,
        blank=True,
        validators=[authors_validator],
        help_text='Who made it, as a JSON list, e.g. ["Ann Smith (ann@example.com)"].',
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "collection"

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class CollectionElement(models.Model):
    """One element of a collection: its kind (e.g. ``flow``) and its id.

    ``chosen`` tells an element someone added from one pulled in because another
    needs it; ``with_records`` (data types only) exports the records too.
    """

    collection = models.ForeignKey(
        Collection,
        on_delete=models.CASCADE,
        related_name="members",
        verbose_name="collection",
    )
    kind = models.CharField(
        "kind", max_length=40, help_text="The element's kind, as in the API: flow, webhook…"
    )
    object_id = models.PositiveBigIntegerField("element id")
    chosen = models.BooleanField(
        "chosen",
        default=True,
        help_text="Added on purpose; otherwise pulled in because another element needs it.",
    )
    with_records = models.BooleanField(
        "with records", default=False, help_text="Data types: the records travel too."
    )

    class Meta:
        ordering = ["collection", "kind", "object_id"]
        verbose_name = "collection element"
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "kind", "object_id"], name="collections_element_unique"
            )
        ]
        indexes = [models.Index(fields=["kind", "object_id"], name="collections_element_lookup")]

    def __str__(self) -> str:
        return f"{self.collection.name}: {self.kind} #{self.object_id}"
