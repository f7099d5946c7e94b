"""Translators: how records are parsed, converted, rendered or updated."""

from django.core.exceptions import ValidationError
from django.db import models

from apps.data.models import DataType
from apps.gateway.models import jmespath_validator

from .algorithms import Algorithm
from .base import NamespacedElement, optional_element


class Translator(NamespacedElement):
    """Cenit's translator, by type and style.

    Types: *import* (parser: API response → records), *conversion* (converter:
    records of a source data type → records of a target one), *export*
    (template: record(s) → request body), *update* (updater: changes records in
    place). Styles: a declarative *mapping* (target field → JMESPath, Jinja2
    expression or constant), a Jinja2 *template* (export), or *python* (an
    algorithm).
    """

    class Type(models.TextChoices):
        IMPORT = "import", "import (parser)"
        CONVERSION = "conversion", "conversion (converter)"
        EXPORT = "export", "export (template)"
        UPDATE = "update", "update (updater)"

    class Style(models.TextChoices):
        MAPPING = "mapping", "mapping"
        TEMPLATE = "template", "template"
        PYTHON = "python", "python (algorithm)"

    type = models.CharField("type", max_length=20, choices=Type.choices)
    style = models.CharField("style", max_length=20, choices=Style.choices)
    source_data_type = optional_element(
        DataType,
        "source data type",
        "Records read (conversion, export, update).",
    )
    target_data_type = optional_element(
        DataType,
        "target data type",
        "Records written (import, conversion).",
    )
    mapping = models.JSONField(
        "mapping",
        default=dict,
        blank=True,
        help_text="Empty: records are copied as they are. Otherwise target field → "
        'expression, e.g. {"email": "contact.email", '
        '"name": "{{ first ~ \' \' ~ last }}", "source": "=\\"crm\\""}.',
    )
    template = models.TextField("template", blank=True, help_text="Jinja2 (template style).")
    mime_type = models.CharField(
        "MIME type",
        max_length=100,
        default="application/json",
        help_text="Of the rendered body (export) or the parsed response (import).",
    )
    bulk = models.BooleanField(
        "bulk", default=False, help_text="The template renders a whole lot at once (`records`)."
    )
    records_path = models.CharField(
        "records path",
        max_length=200,
        blank=True,
        validators=[jmespath_validator],
        help_text="Import: JMESPath to the records in a parsed body, when the webhook has none.",
    )
    algorithm = optional_element(
        Algorithm,
        "algorithm",
        "Python style: called with `record` (or `records`).",
    )

    class Meta(NamespacedElement.Meta):
        verbose_name = "translator"

    def clean(self) -> None:
        # An empty mapping copies records as they are (e.g. a parser storing an API's records).
        needs: dict[str, tuple[str, str]] = {
            self.Style.TEMPLATE: ("template", "a template"),
            self.Style.PYTHON: ("algorithm", "an algorithm"),
        }
        field, what = needs.get(self.style, (None, None))
        if field and not getattr(self, field if field != "algorithm" else "algorithm_id"):
            raise ValidationError({field: f"The {self.style} style needs {what}."})
        if self.style == self.Style.TEMPLATE and self.type != self.Type.EXPORT:
            raise ValidationError({"style": "Templates render export bodies: use type export."})
        if self.type in {self.Type.IMPORT, self.Type.CONVERSION} and not self.target_data_type_id:
            raise ValidationError({"target_data_type": f"A {self.type} translator stores records."})
        from ..engine.translators import check_translator

        check_translator(self)  # raises ValidationError naming the field and the problem
