"""Connections, connection roles, webhooks and the log of outbound requests.

A *connection* says where a remote API lives and how to reach it (base URL,
parameters and headers sent with every call, authorization). A *webhook* is
one resource of such an API (a relative path, a method, a body template,
where the records are in the answer and how pages follow each other). A
*connection role* pairs connections with the webhooks they serve. The HTTP
client (:mod:`apps.gateway.client`) combines them and writes a *request log*
row for every attempt.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import jinja2
import jmespath
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.data.models import Namespace, NamespacedElement, unique_name_constraint
from apps.security.models import outbound_url
from coderunner.translation.functions import ExpressionTooBig, compile_jmespath

from .pagination import pagination_check

HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def http_url_validator(value: str) -> None:
    """Only absolute http(s) URLs: outbound calls never go to file:, ftp: and the like."""
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed "[": outbound_url below says what is wrong
        parts = None
    if parts is not None and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValidationError(
            "%(value)r is not an http(s) URL; write it like 'https://api.example.com/v2'.",
            code="invalid_base_url",
            params={"value": value},
        )
    outbound_url(value)


def finite_validator(value: float) -> None:
    if value != value or value in (float("inf"), float("-inf")):  # NaN is not equal to itself
        raise ValidationError("Give a number of seconds.", code="not_finite")


def json_object_validator(value: object) -> None:
    if not isinstance(value, dict):
        raise ValidationError(
            'Must be a JSON object such as {"key": "value"}.', code="not_an_object"
        )


_syntax = jinja2.Environment(autoescape=False)  # noqa: S701 (parses only: nothing renders)


def template_syntax_validator(value: str) -> None:
    """``{{placeholders}}`` that parse: ``contacts/{{unclosed`` is refused on save."""
    if "{" not in value:
        return
    try:
        _syntax.parse(value)
    except jinja2.TemplateSyntaxError as error:
        raise ValidationError(
            "%(value)r is not a valid template (line %(line)s: %(reason)s); placeholders "
            "are written {{name}}.",
            code="invalid_template",
            params={"value": value[:100], "line": error.lineno, "reason": error.message},
        ) from None


def _text_values(value: object, *, lists: bool) -> None:
    json_object_validator(value)
    assert isinstance(value, dict)
    for key, item in value.items():
        texts = item if lists and isinstance(item, list) else [item]
        if not all(isinstance(text, str) for text in texts):
            expected = "a string or a list of strings" if lists else "a string"
            raise ValidationError(
                "%(key)r must be %(expected)s, not %(item)s: write it in quotes, e.g. "
                '{"%(key)s": "%(example)s"}.',
                code="not_text",
                params={"key": key, "expected": expected, "item": json.dumps(item)[:60],
                        "example": item if not isinstance(item, dict | list) else "…"},
            )  # fmt: skip
        for text in texts:
            template_syntax_validator(text)


# Names that carry credentials. Headers and parameters are configuration: stored, shown
# and exported with collections in plain text. Credentials belong in an authorization,
# whose secrets are encrypted, redacted and never shown.
CREDENTIAL_NAME = re.compile(
    r"^(authorization|proxy-authorization|cookie|x-auth.*)$|token|secret|passw|api[-_]?key"
    r"|signature|credential",
    re.IGNORECASE,
)


def _no_credentials(value: object, what: str, where: str) -> None:
    assert isinstance(value, dict)
    for key in value:
        if CREDENTIAL_NAME.search(str(key)):
            raise ValidationError(
                "%(what)s %(key)r looks like a credential: %(what)ss are stored, shown and "
                "exported in plain text. Keep it in an authorization instead (kind 'API key', "
                "key name %(key)r, in the %(where)s), where it is encrypted and never shown.",
                code="credential_in_plain_text",
                params={"what": what, "key": key, "where": where},
            )


def headers_validator(value: object) -> None:
    """A JSON object of header names to text (HTTP headers are text), without credentials."""
    _text_values(value, lists=False)
    _no_credentials(value, "header", "header")


def parameters_validator(value: object) -> None:
    """A JSON object of query parameters to text, or lists of text (repeated parameters)."""
    _text_values(value, lists=True)
    _no_credentials(value, "parameter", "query")


def relative_path_validator(value: str) -> None:
    if value.startswith("/") or value.endswith("/") or "://" in value:
        raise ValidationError(
            "%(value)r must be relative to the connection's base URL, without a leading or "
            "trailing '/', e.g. 'contacts/{{remote_id}}'.",
            code="invalid_path",
            params={"value": value},
        )


def jmespath_validator(value: str) -> None:
    try:
        compile_jmespath(value)  # bounded in size and nesting before it is parsed
    except (jmespath.exceptions.JMESPathError, ExpressionTooBig) as error:
        raise ValidationError(
            "%(value)r is not a valid JMESPath expression: %(error)s",
            code="invalid_jmespath",
            params={"value": value, "error": error},
        ) from None


def pagination_validator(value: object) -> None:
    problems = pagination_check(value)
    if problems:
        raise ValidationError(problems, code="invalid_pagination")


def _unique_name(model: str) -> models.UniqueConstraint:
    return unique_name_constraint("gateway", model)


class Connection(NamespacedElement):
    """Where a remote API lives and how to reach it.

    Its parameters and headers go with every call; its template parameters
    fill the ``{{placeholders}}`` of webhook paths and bodies; its
    authorization signs every request.
    """

    base_url = models.CharField(
        "base URL",
        max_length=500,
        validators=[http_url_validator],
        help_text="An http(s) URL that webhook paths are appended to, e.g. "
        "'https://api.example.com/v2'.",
    )
    parameters = models.JSONField(
        "parameters",
        default=dict,
        blank=True,
        validators=[parameters_validator],
        help_text="Query parameters added to every call, as a JSON object.",
    )
    headers = models.JSONField(
        "headers",
        default=dict,
        blank=True,
        validators=[headers_validator],
        help_text="HTTP headers added to every call, as a JSON object. Put credentials in "
        "the authorization, not here: only the authorization's secrets are redacted.",
    )
    template_parameters = models.JSONField(
        "template parameters",
        default=dict,
        blank=True,
        validators=[json_object_validator],
        help_text="Values for the {{placeholders}} of webhook paths, parameters and bodies.",
    )
    authorization = models.ForeignKey(
        "security.Authorization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connections",
        verbose_name="authorization",
        help_text="Signs every request made through this connection; empty for none.",
    )
    connect_timeout = models.FloatField(
        "connect timeout",
        default=5.0,
        validators=[finite_validator, MinValueValidator(0.01), MaxValueValidator(300)],
        help_text="Seconds to wait for the TCP/TLS connection.",
    )
    read_timeout = models.FloatField(
        "read timeout",
        default=30.0,
        validators=[finite_validator, MinValueValidator(0.01), MaxValueValidator(3600)],
        help_text="Seconds to wait for the server between bytes of the answer.",
    )
    max_attempts = models.PositiveSmallIntegerField(
        "maximum attempts",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Attempts per request, counting the first: connection errors, timeouts, "
        "429 and 5xx answers are retried with exponential backoff.",
    )

    class Meta(NamespacedElement.Meta):
        verbose_name = "connection"
        constraints = [_unique_name("connection")]


class Webhook(NamespacedElement):
    """One resource of a remote API: a path, a method, and how to read its answers."""

    path = models.CharField(
        "path",
        max_length=500,
        blank=True,
        validators=[relative_path_validator, template_syntax_validator],
        help_text="Relative to the connection's base URL, without leading or trailing '/'; "
        "may hold {{placeholders}}, e.g. 'contacts/{{remote_id}}'.",
    )
    method = models.CharField(
        "method",
        max_length=6,
        choices=[(method, method) for method in HTTP_METHODS],
        default="GET",
        help_text="The HTTP method.",
    )
    parameters = models.JSONField(
        "parameters",
        default=dict,
        blank=True,
        validators=[parameters_validator],
        help_text="Query parameters of this resource, added to the connection's.",
    )
    headers = models.JSONField(
        "headers",
        default=dict,
        blank=True,
        validators=[headers_validator],
        help_text="HTTP headers of this resource, added to the connection's.",
    )
    body_template = models.TextField(
        "body template",
        blank=True,
        validators=[template_syntax_validator],
        help_text="A Jinja2 template of the request body, rendered with the template "
        "parameters when a call gives no body.",
    )
    records_path = models.CharField(
        "records path",
        max_length=500,
        blank=True,
        validators=[jmespath_validator],
        help_text="A JMESPath expression selecting the records in the answer, e.g. 'data'. "
        "Empty: the answer itself when it is a list, else its first list-valued field.",
    )
    pagination = models.JSONField(
        "pagination",
        default=dict,
        blank=True,
        validators=[pagination_validator],
        help_text='How pages follow each other, e.g. {"type": "page_number", "page_param": '
        '"page", "size_param": "per_page", "size": 200, "has_more_path": "info.more"}. '
        "Types: none, page_number, offset, cursor, link_header, next_url. Empty: none.",
    )
    connection = models.ForeignKey(
        Connection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_for_webhooks",
        verbose_name="default connection",
        help_text="The connection used when a call names none.",
    )

    class Meta(NamespacedElement.Meta):
        verbose_name = "webhook"
        constraints = [_unique_name("webhook")]

    def clean(self) -> None:
        super().clean()
        from .templating import check

        # Templates beyond plain placeholders are compiled in a runner, never here.
        problem = check(
            self.body_template, what="the body template", namespace_id=self.namespace_id
        )
        if problem:
            raise ValidationError({"body_template": problem})


class ConnectionRole(NamespacedElement):
    """A set of connections and the webhooks each of them serves."""

    connections = models.ManyToManyField(
        Connection,
        blank=True,
        related_name="roles",
        verbose_name="connections",
        help_text="The connections of this role.",
    )
    webhooks = models.ManyToManyField(
        Webhook,
        blank=True,
        related_name="roles",
        verbose_name="webhooks",
        help_text="The webhooks these connections serve.",
    )

    class Meta(NamespacedElement.Meta):
        verbose_name = "connection role"
        constraints = [_unique_name("connectionrole")]


class RequestLogQuerySet(models.QuerySet):
    def older_than(self, moment) -> RequestLogQuerySet:
        return self.filter(created_at__lt=moment)


class RequestLog(models.Model):
    """One attempt of an outbound request, without secrets.

    Headers are redacted, the URL and bodies have the authorization's secret
    values removed, and bodies are cut to a few kilobytes. Rows older than
    ``settings.REQUEST_LOG_RETENTION_DAYS`` are removed by
    ``manage.py prune_request_logs``.
    """

    namespace = models.ForeignKey(
        Namespace,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="namespace",
        help_text="The namespace of the webhook called (for permissions).",
    )
    webhook = models.ForeignKey(
        Webhook,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="webhook",
        help_text="The webhook called.",
    )
    connection = models.ForeignKey(
        Connection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="connection",
        help_text="The connection it was called through.",
    )
    method = models.CharField("method", max_length=6, help_text="The HTTP method.")
    url = models.TextField("URL", help_text="The URL called, with secrets removed.")
    status = models.PositiveSmallIntegerField(
        "status", null=True, blank=True, help_text="The HTTP status; empty when none came back."
    )
    duration_ms = models.PositiveIntegerField(
        "duration (ms)", default=0, help_text="Milliseconds from sending to the full answer."
    )
    attempt = models.PositiveSmallIntegerField(
        "attempt", default=1, help_text="1 for the first try, 2 for the first retry…"
    )
    request_headers = models.JSONField(
        "request headers", default=dict, blank=True, help_text="Sent headers, redacted."
    )
    request_body = models.TextField(
        "request body", blank=True, help_text="The start of the sent body, secrets removed."
    )
    response_body = models.TextField(
        "response body", blank=True, help_text="The start of the answer, secrets removed."
    )
    error = models.TextField(
        "error", blank=True, help_text="What went wrong, if anything (timeout, refused…)."
    )
    created_at = models.DateTimeField(
        "created", default=timezone.now, db_index=True, help_text="When it was sent."
    )

    objects = RequestLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "request log"

    def __str__(self) -> str:
        return f"{self.method} {self.url} → {self.status or self.error[:40]}"
