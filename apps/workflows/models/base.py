"""What every configuration element of the workflows app has in common."""

from django.db import models

from apps.data.models import NamespacedElement as BaseElement


class NamespacedElement(BaseElement):
    """A workflows element (translator, algorithm, event, flow), with a description."""

    description = models.TextField("description", blank=True, help_text="What it is for.")

    class Meta(BaseElement.Meta):
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "name"], name="%(app_label)s_%(class)s_unique_name"
            )
        ]


def optional_element(to, verbose_name: str, help_text: str) -> models.ForeignKey:
    """An optional reference to another element, protected from deletion while used."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=verbose_name,
        help_text=help_text,
    )
