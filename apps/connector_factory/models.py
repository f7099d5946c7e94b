"""Connectors: a collection generated from a short description of a REST API (DESIGN §7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Connector(models.Model):
    """Cenit's connector: the spec a user gave and the collection generated from it.

    The connector owns its namespace (named as the connector) and the collection
    of the elements the generator wrote there. ``spec`` is the normalized spec
    without secret values: those live, encrypted, in the generated authorization
    and client. ``generated`` keeps a digest of the code the generator last wrote
    for each algorithm, so that a later generation can tell an algorithm the user
    edited (kept, and reported) from one it may rewrite.
    """

    namespace = models.OneToOneField(
        "data.Namespace",
        on_delete=models.CASCADE,
        related_name="connector",
        verbose_name="namespace",
        help_text="The namespace holding the generated elements; named as the connector.",
    )
    collection = models.ForeignKey(
        "collections.Collection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="collection",
        help_text="The collection of every generated element.",
    )
    spec = models.JSONField(
        "spec", default=dict, help_text="The normalized spec, without secret values."
    )
    generated = models.JSONField(
        "generated code digests",
        default=dict,
        blank=True,
        editable=False,
        help_text="Algorithm name → digest of the code the generator last wrote.",
    )
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="created by",
    )

    class Meta:
        ordering = ["namespace__name"]
        verbose_name = "connector"

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.namespace.name
