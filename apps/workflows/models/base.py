"""What every configuration element of the workflows app has in common."""

from django.db import models

from apps.data.models import Namespace, name_validator


class NamespacedElement(models.Model):
    """An element with a name unique within its namespace (``namespace.name``)."""

    namespace = models.ForeignKey(
        Namespace,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="namespace",
        help_text="The namespace this element belongs to.",
    )
    name = models.CharField(
        "name", max_length=100, validators=[name_validator], help_text="Unique in the namespace."
    )
    description = models.TextField("description", blank=True, help_text="What it is for.")
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True)

    class Meta:
        abstract = True
        ordering = ["namespace__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "name"], name="%(app_label)s_%(class)s_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace.name}.{self.name}"
