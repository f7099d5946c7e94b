"""Flows: an event, a translator and where the records come from and go."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.data.models import DataType

from .algorithms import Algorithm
from .base import NamespacedElement, optional_element
from .events import Event
from .translators import Translator

MAX_LOT_SIZE = 10_000
MAX_ATTEMPTS = 20


class Flow(NamespacedElement):
    """Cenit's flow: when its event fires (or on demand), run its translator, or its algorithm.

    *import*: fetch every page of the webhook and store the parsed records;
    *conversion*: map the source records to the target data type;
    *export*: render the records and submit them to the webhook, then store the
    response through the response translator; *update*: change records in place.
    A flow may run an *algorithm* instead of a translator: once per record in
    scope (``record``) when it has a source data type, else once with no
    argument; the run is the flow's task (``api.task.state``, ``run_again``).
    """

    class Scope(models.TextChoices):
        EVENT_SOURCE = "event_source", "the records that fired the event"
        ALL = "all", "all records of the data type"
        FILTER = "filter", "the records matching the filter"

    event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flows",
        verbose_name="event",
        help_text="Empty: the flow runs only on demand.",
    )
    translator = models.ForeignKey(
        Translator,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="flows",
        verbose_name="translator",
        help_text="What the flow does with records; or give an algorithm instead.",
    )
    algorithm = optional_element(
        Algorithm,
        "algorithm",
        "Instead of a translator: run this algorithm, given `record` for each record in "
        "scope when the flow has a source data type, else with no argument.",
    )
    data_type = optional_element(
        DataType,
        "source data type",
        "Conversion/export/update: whose records; defaults to the translator's source.",
    )
    scope = models.CharField(
        "scope",
        max_length=20,
        choices=Scope.choices,
        default=Scope.EVENT_SOURCE,
        help_text="Which records a run processes (an on-demand run of 'event source' takes all).",
    )
    scope_filter = models.JSONField(
        "scope filter", default=list, blank=True, help_text="Conditions, as an observer's."
    )
    lot_size = models.PositiveIntegerField(
        "lot size",
        default=500,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LOT_SIZE)],
        help_text=f"Records per task (and per bulk template render), 1 to {MAX_LOT_SIZE}.",
    )
    webhook = optional_element(
        "gateway.Webhook",
        "webhook",
        "Import: where to fetch. Export: where to submit.",
    )
    connection_role = optional_element(
        "gateway.ConnectionRole",
        "connection role",
        "Which connection(s) to call; defaults to the webhook's connection.",
    )
    authorization = optional_element(
        "security.Authorization",
        "authorization",
        "Overrides the connection's authorization.",
    )
    template_values = models.JSONField(
        "template values",
        default=dict,
        blank=True,
        help_text="Values for the webhook's {{placeholders}} (export: record fields too).",
    )
    before_submit = optional_element(
        Algorithm,
        "before submit",
        "Export: an algorithm given `body` and `records` that returns the body to send.",
    )
    response_translator = optional_element(
        Translator,
        "response translator",
        "Export: parses the API's answer.",
    )
    response_data_type = optional_element(
        DataType,
        "response data type",
        "Export: where the parsed answer is stored (default: the translator's target).",
    )
    active = models.BooleanField("active", default=True, help_text="Inactive flows never run.")
    discard_events = models.BooleanField(
        "discard events",
        default=False,
        help_text="Records this flow writes do not fire observers (no echo loops).",
    )
    notify_request = models.BooleanField("notify request", default=False)
    notify_response = models.BooleanField("notify response", default=False)
    auto_retry = models.BooleanField(
        "auto retry", default=True, help_text="Failed runs are retried with backoff."
    )
    max_attempts = models.PositiveSmallIntegerField(
        "max attempts",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ATTEMPTS)],
        help_text=f"Attempts before a failed run is final, 1 to {MAX_ATTEMPTS}.",
    )

    class Meta(NamespacedElement.Meta):
        verbose_name = "flow"

    @property
    def source_data_type(self) -> DataType | None:
        if self.data_type_id or self.translator is None:
            return self.data_type
        return self.translator.source_data_type

    def clean(self) -> None:
        if bool(self.translator_id) == bool(self.algorithm_id):
            raise ValidationError(
                {"translator": "A flow runs a translator or an algorithm: give one of them."}
            )
        if self.translator is None:
            return
        kind = self.translator.type
        if kind in {Translator.Type.IMPORT, Translator.Type.EXPORT} and not self.webhook_id:
            raise ValidationError({"webhook": f"An {kind} flow calls a webhook."})
        if kind != Translator.Type.IMPORT and not (
            self.data_type_id or self.translator.source_data_type_id
        ):
            raise ValidationError({"data_type": "Which data type's records does it process?"})
