"""The webhook's "Try" page in the admin: call it once and show what came back.

The call goes through the same client as imports (:func:`webhook_fetch`), so
what the page shows — status, headers, the first page's records, page and
record counts, or the error — is what a flow would get.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.conf import settings
from django.http import Http404
from django.template.response import TemplateResponse

from apps.data import permissions
from apps.security.redaction import redact_headers

from .client import GatewayError, webhook_fetch
from .models import Connection, Webhook
from .templating import placeholders

PREVIEW_RECORDS = 20
PREVIEW_CHARS = 20_000


class TryForm(forms.Form):
    connection = forms.ModelChoiceField(
        queryset=Connection.objects.none(),
        required=False,
        empty_label="(the webhook's default connection)",
        help_text="The connection to call the webhook through.",
    )
    template_values = forms.JSONField(
        label="Placeholder values",
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text='Values for the {{placeholders}}, as a JSON object, e.g. {"remote_id": "42"}.',
    )
    parameters = forms.JSONField(
        label="Extra parameters",
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Query parameters to add, as a JSON object.",
    )
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "class": "try-body"}),
        help_text="The request body: JSON is sent as JSON, anything else as text. Empty: "
        "the webhook's body template.",
    )
    all_pages = forms.BooleanField(
        required=False,
        help_text="Follow the pagination (up to 50 pages; only the first page is shown).",
    )

    def __init__(self, *args, webhook: Webhook, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.webhook, self.user = webhook, user
        # Calling through a connection uses its credentials: viewing is not using.
        changeable = permissions.namespaces_for(user, permissions.CHANGE)
        connection = cast(forms.ModelChoiceField, self.fields["connection"])  # as declared
        connection.queryset = Connection.objects.filter(namespace__in=changeable).select_related(
            "namespace"
        )
        if webhook.method == "GET":  # a GET sends no body
            del self.fields["body"]
        names = placeholders(
            webhook.path, webhook.body_template, *map(str, webhook.parameters.values())
        )
        if names and not self.is_bound:
            self.initial["template_values"] = {name: "" for name in names}

    def clean_body(self):
        text = self.cleaned_data.get("body") or ""
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text

    def clean_connection(self):
        connection = self.cleaned_data.get("connection") or self.webhook.connection
        if connection is not None and not permissions.can_change(self.user, connection.namespace):
            raise forms.ValidationError(
                f"You may not call through connection {connection}: trying a webhook uses the "
                f"connection's credentials, and you may not change namespace "
                f"'{connection.namespace.name}'. Choose a connection of your own."
            )
        return self.cleaned_data.get("connection")

    def clean_template_values(self):
        return self._object("template_values")

    def clean_parameters(self):
        return self._object("parameters")

    def _object(self, name: str) -> dict:
        value = self.cleaned_data.get(name) or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Give a JSON object, like {"key": "value"}.')
        return value


@dataclass
class TryResult:
    """What one try fetched, ready for the template."""

    status: int | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    records: list[tuple[str, str]] = field(default_factory=list)  # (one line, in full)
    raw: list[Any] = field(default_factory=list)  # the same records as they came
    shown: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    capped: bool = False


TRY_MAX_PAGES = 50


def _preview(record) -> tuple[str, str]:
    """A record shown collapsed: one line to spot it, the indented JSON to read it."""
    line = json.dumps(record, ensure_ascii=False)
    full = json.dumps(record, indent=2, ensure_ascii=False)
    return (line if len(line) <= SUMMARY_CHARS else line[:SUMMARY_CHARS] + "…",
            full if len(full) <= PREVIEW_CHARS else full[:PREVIEW_CHARS] + "\n…")  # fmt: skip


SUMMARY_CHARS = 120


def webhook_try(
    *, webhook: Webhook, connection, template_values, parameters, all_pages, body=None
) -> TryResult:
    """Fetch the webhook; keep the first page's records for display, count the rest."""
    result = TryResult()
    fetch = None
    extra = 0
    try:
        fetch = webhook_fetch(
            webhook=webhook, connection=connection, template_values=template_values,
            parameters=parameters, all_pages=all_pages, body=body,
        )  # fmt: skip
        # A try holds a web worker: it stops at SYNC_WAIT_SECONDS, whatever the remote does.
        fetch.call.deadline = time.monotonic() + settings.SYNC_WAIT_SECONDS
        for page in fetch:
            if page.number > TRY_MAX_PAGES:  # a try is a look, not an import
                result.capped = True
                fetch.close()
                extra = len(page.records)
                break
            if page.number == 1:
                result.status, result.url = page.status, page.url
                result.headers = redact_headers(dict(page.headers))
                shown = page.records[:PREVIEW_RECORDS]
                result.shown = len(shown)
                result.records = [_preview(record) for record in shown]
                result.raw = list(shown)
    except GatewayError as error:
        if result.status is not None and fetch is not None and fetch.call.deadline is not None \
                and time.monotonic() >= fetch.call.deadline:  # fmt: skip
            result.capped = True  # out of time after the first page: show what came
        else:
            result.error = str(error)
            if result.status is None:  # an HTTP error's answer: its status and URL at least
                result.status, result.url = error.status, error.url
    if fetch is not None:
        result.stats = fetch.stats.as_dict()
        if result.capped:  # count what was shown: the pages up to the cap
            result.stats["pages"] = TRY_MAX_PAGES
            result.stats["records"] -= extra
    return result


def webhook_try_view(model_admin, request, object_id: str):
    """GET: the form; POST (CSRF-checked by the admin): the result under the form."""
    # get_object() sees only webhooks of visible namespaces: others are not found, not
    # forbidden, so that their existence is not disclosed.
    webhook = model_admin.get_object(request, object_id)
    if webhook is None or not model_admin.has_view_permission(request, webhook):
        raise Http404("No such webhook.")
    form = TryForm(request.POST or None, webhook=webhook, user=request.user,
                   initial={"connection": webhook.connection})  # fmt: skip
    result = None
    if request.method == "POST" and form.is_valid():
        result = webhook_try(webhook=webhook, **form.cleaned_data)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Try webhook {webhook}",
        "opts": model_admin.model._meta,
        "original": webhook,
        "form": form,
        "result": result,
        "try_seconds": f"{settings.SYNC_WAIT_SECONDS:g}",
    }
    return TemplateResponse(request, "admin/gateway/webhook/try.html", context)
