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
