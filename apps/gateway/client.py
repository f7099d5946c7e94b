"""The platform's one HTTP client: every outbound call of a webhook goes through here.

A call combines a webhook with a connection: the URL is the connection's base
URL plus the webhook's path with its ``{{placeholders}}`` filled; parameters
and headers are merged (connection, then webhook, then the call's own); the
connection's authorization signs each request. Failed attempts are retried
(:mod:`.retries`), a 401 makes the authorization refresh once, every attempt
is logged without secrets (:mod:`.logs`), and answers are read page by page
(:mod:`.pagination`).

Public API::

    fetch = webhook_fetch(webhook=w, template_values={"id": 1})
    for page in fetch:           # lazily, one page in memory at a time
        store(page.records)
    fetch.stats                  # pages, records, retries, seconds

    response = webhook_submit(webhook=w, body={"name": "x"})

Failures raise :class:`GatewayError` (see :mod:`.errors`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import jmespath
import requests
import urllib3
from django.utils import timezone

from apps.data.permissions import CrossNamespaceDenied, use_check
from apps.security.models import Authorization
from apps.security.services import (
    AuthorizationError,
    authorization_auth,
    authorization_refresh,
    secret_values,
)

from .destinations import GuardedSession
from .errors import GatewayError
from .logs import RequestLogger, excerpt
from .models import Connection, Webhook
from .pagination import PageRequest, paginator_for, records_of
from .retries import is_retryable, retry_delay
from .templating import placeholders, render, render_values

__all__ = [
    "Call", "Fetch", "FetchStats", "GatewayError", "Page", "answer_text", "webhook_fetch",
    "webhook_submit",
]  # fmt: skip

ERROR_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class Page:
    """One page of an answer: its records and where it came from (URL without secrets)."""

    number: int
    status: int
    headers: Mapping[str, str]
    records: list
    url: str


@dataclass
class FetchStats:
    """What a fetch has done so far; ``seconds`` is wall time, consumer's included."""

    pages: int = 0
    records: int = 0
    retries: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# What urllib3's long exception texts mean, said briefly (the full text is logged).
CONNECTION_PROBLEMS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "the host name is not known"),
    ("nodename nor servname", "the host name is not known"),
    ("Temporary failure in name resolution", "the host name could not be resolved"),
    ("No route to host", "no route to the host"),
    ("Network is unreachable", "the network is unreachable"),
    ("Connection reset", "the server reset the connection"),
    ("RemoteDisconnected", "the server closed the connection without answering"),
    ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate could not be verified"),
)


def connection_problem(error: Exception) -> str:
    text = str(error)
    for marker, meaning in CONNECTION_PROBLEMS:
        if marker in text:
            return meaning
    return f"connection failed ({text})"


def with_charset(mime_type: str) -> str:
    """A MIME type as a Content-Type header: text bodies are encoded as UTF-8, say so."""
    return mime_type if "charset=" in mime_type.lower() else f"{mime_type}; charset=utf-8"


NOT_IDEMPOTENT = {"POST", "PATCH"}


def _join(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if path else base_url


class Call:
    """A webhook resolved against a connection, and the attempts of its requests."""

    def __init__(
        self,
        *,
        webhook: Webhook,
        connection: Connection | None,
        template_values: Mapping[str, Any] | None,
        parameters: Mapping[str, Any] | None,
        headers: Mapping[str, Any] | None,
        authorization: Authorization | None = None,
    ) -> None:
        uses: list[tuple[Any, list[str]]] = []  # the stored references this call relies on
        if connection is None:
            connection = webhook.connection
            uses.append((webhook, ["connection"]))
        if connection is None:
            raise GatewayError(
                f"Webhook {webhook} has no default connection; name one for the call.",
                code="no_connection",
            )
        self.webhook, self.connection = webhook, connection
        self.values = {**connection.template_parameters, **(template_values or {})}
        for name in placeholders(webhook.path):  # `items/{{id}}` must not call `items/`
            if self.values.get(name) in (None, ""):
                raise GatewayError(
                    f"The placeholder '{name}' of the path of webhook {webhook} has no value: "
                    "give it in the call's template values or the connection's template "
                    "parameters.",
                    code="missing_placeholder",
                )
        path = self._render(webhook.path, f"the path of webhook {webhook}")
        self.method = webhook.method
        self.url = _join(connection.base_url, path)
        self.params = {
            **self._render_all(connection.parameters, f"parameter of connection {connection}",
                               connection.namespace_id),
            **self._render_all(webhook.parameters, f"parameter of webhook {webhook}"),
            **(parameters or {}),
        }  # fmt: skip
        self.headers = {
            **self._render_all(connection.headers, f"header of connection {connection}",
                               connection.namespace_id),
            **self._render_all(webhook.headers, f"header of webhook {webhook}"),
            **(headers or {}),
        }  # fmt: skip
        self.timeout = (connection.connect_timeout, connection.read_timeout)
        # A flow may override the connection's authorization.
        if authorization is None:
            uses.append((connection, ["authorization"]))
        self.authorization = authorization or connection.authorization
        if self.authorization is not None:
            uses.append((self.authorization, ["client"]))
            if self.authorization.client is not None:
                uses.append((self.authorization.client, ["provider"]))
        _check_uses(uses, self.method)
        self.log = RequestLogger(
            webhook=webhook,
            connection=connection,
            secrets=lambda: secret_values(self.authorization),
            secret_params=_secret_params(self.authorization),
        )
        self.auth = self._guard(authorization_auth, self.authorization)
        self.retries = 0
        self.session = GuardedSession()

    # Templates run in a runner of their element's namespace (the webhook's by default).
    def _render(self, text: str, what: str) -> str:
        return render(text, self.values, what=what, namespace_id=self.webhook.namespace_id)

    def _render_all(
        self, items: Mapping[str, Any], what: str, namespace_id: int | None = None
    ) -> dict[str, Any]:
        namespace = namespace_id or self.webhook.namespace_id
        return render_values(items, self.values, what=what, namespace_id=namespace)

    def body(self, body: Any, content_type: str | None = None) -> bytes | None:
        """The request body: JSON for objects and lists, else text; the template if None.

        A text body is sent as ``content_type`` (an export translator's MIME type, with
        ``charset=utf-8``) unless the connection, the webhook or the call set a
        Content-Type header: JSON APIs refuse bodies without one (415).
        """
        if body is None and self.webhook.body_template:
            body = self._render(self.webhook.body_template, f"the body of webhook {self.webhook}")
        if body is None:
            return body
        if isinstance(body, bytes | str):
            if content_type:
                self._content_type(with_charset(content_type))
            return body.encode() if isinstance(body, str) else body
        self._content_type("application/json")
        return json.dumps(body).encode()

    def _content_type(self, value: str) -> None:
        if not any(name.lower() == "content-type" for name in self.headers):
            self.headers["Content-Type"] = value

    def _guard(self, function, authorization: Authorization | None):
        """Run a security service; its failure is this call's failure."""
        try:
            return function(authorization)
        except AuthorizationError as error:
            raise GatewayError(
                f"{self.method} {self.log_url(self.url)}: {error}",
                code="authorization",
                method=self.method,
            ) from None

    def log_url(self, url: str) -> str:
        return self.log.clean_url(url)

    # A bound on the whole call (time.monotonic()), for the web side's tries: no request
    # starts, waits or is retried past it.
    deadline: float | None = None

    def _timeout(self) -> tuple[float, float]:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise GatewayError(
                f"{self.method} {self.log_url(self.url)}: not sent, the time for this try "
                "is over (SYNC_WAIT_SECONDS).",
                code="timeout",
                method=self.method,
            )
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def send(self, url: str, *, params: Mapping[str, Any] | None, body: bytes | None):
        """One request, retried as needed; the answer, or GatewayError for good."""
        attempt, refreshed = 0, False
        while True:
            attempt += 1
            response, error, code, where = self._attempt(url, params, body, attempt)
            status = response.status_code if response is not None else None
            if status == 401 and self.authorization and not refreshed:
                refreshed = True  # once: a second 401 means the new credentials are refused too
                if self._guard(authorization_refresh, self.authorization):
                    self.retries += 1
                    continue
            retry_after = response.headers.get("Retry-After") if response is not None else None
            delay = retry_delay(attempt, retry_after)
            in_time = self.deadline is None or time.monotonic() + delay < self.deadline
            # A POST or PATCH that reached the server may have been carried out (a create
            # answered 500, or one whose answer timed out): sending it again could create
            # twice. It is sent again only when it surely was not (429, no connection).
            retry = is_retryable(status) and attempt < self.connection.max_attempts and in_time
            resend = self.method not in NOT_IDEMPOTENT or status == 429 or self._unsent
            if retry and resend:
                self.retries += 1
                time.sleep(delay)
                continue
            once = (
                f" (a {self.method} is not sent again: it may have been carried out)"
                if retry
                else ""
            )
            if response is None:
                raise GatewayError(
                    f"{self.method} {where} failed after {attempt} attempt(s): "
                    f"{self.log.clean_text(error)}{once}",
                    code=code,
                    method=self.method,
                    url=where,
                )
            if response.status_code >= 400:
                failure = GatewayError(
                    f"{self.method} {where} answered HTTP {response.status_code} after "
                    f"{attempt} attempt(s){once}: {self._excerpt(response)}",
                    code="http_error",
                    method=self.method,
                    url=where,
                    status=response.status_code,
                )
                # For callers that read the remote error themselves (its secrets hidden).
                failure.body = self.log.clean_text(excerpt(response.content, 5000))
                raise failure
            # For answer_text(): the body as the request log would keep it.
            response.redacted_text = partial(self.log.clean_text, response.content)  # type: ignore[attr-defined]
            return response

    def _attempt(self, url, params, body, attempt):
        """Send once and log it: (response, "", "", url sent) or (None, error, code, url)."""
        at, started = timezone.now(), time.perf_counter()
        response, error, code, sent = None, "", "", None
        self._unsent = False  # True when the request surely never reached the server
        timeout = self._timeout()
        try:
            response = self.session.request(
                self.method, url, params=params, data=body, headers=self.headers,
                auth=self.auth, timeout=timeout,
            )  # fmt: skip
            sent = response.request
        except requests.ConnectTimeout as exc:
            error, code = f"timed out connecting (after {timeout[0]:.3g} s)", "timeout"
            sent, self._unsent = exc.request, True
        except requests.Timeout as exc:
            error, code = f"timed out waiting for the answer (after {timeout[1]:.3g} s)", "timeout"
            sent = exc.request
        except requests.ConnectionError as exc:
            error, code, sent = connection_problem(exc), "connection_error", exc.request
            reason = getattr(exc.args[0] if exc.args else None, "reason", None)
            self._unsent = isinstance(reason, urllib3.exceptions.NewConnectionError)
        except (requests.RequestException, GatewayError, AuthorizationError) as exc:
            # Not worth retrying: a bad URL, a refused destination, credentials that
            # could not be obtained. Logged all the same: someone will look for it.
            sent = getattr(exc, "request", None)
            self._log(url, attempt, at, started, sent, body, error=str(exc))
            if isinstance(exc, GatewayError):
                raise
            code = "authorization" if isinstance(exc, AuthorizationError) else "request_error"
            raise GatewayError(
                f"{self.method} {self.log_url(url)}: {self.log.clean_text(str(exc))}",
                code=code,
                method=self.method,
                url=self.log_url(url),
            ) from None
        where = self._log(url, attempt, at, started, sent, body, response=response, error=error)
        return response, error, code, where

    def _log(self, url, attempt, at, started, sent, body, *, response=None, error="") -> str:
        """Log one attempt; the URL it went to (with its query), as the log shows it."""
        url = response.url if response is not None else getattr(sent, "url", None) or url
        self.log.add(
            method=self.method,
            url=url,
            attempt=attempt,
            at=at,
            duration=time.perf_counter() - started,
            headers=sent.headers if sent is not None else self.headers,
            request_body=body,
            status=response.status_code if response is not None else None,
            response_body=response.content if response is not None else None,
            error=error,
        )
        return self.log_url(url)

    def _excerpt(self, response: requests.Response) -> str:
        return self.log.clean_text(excerpt(response.content, ERROR_EXCERPT_CHARS)) or "(no body)"

    def json(self, response: requests.Response) -> Any:
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except ValueError as error:
            message = (
                f"{self.method} {self.log_url(response.url)} answered HTTP "
                f"{response.status_code} with malformed JSON ({error}): {self._excerpt(response)}"
            )
            self.log.fail_last(error=message, response_body=response.content)
            raise GatewayError(
                message,
                code="malformed_json",
                method=self.method,
                url=self.log_url(response.url),
                status=response.status_code,
            ) from None

    def close(self) -> None:
        self.session.close()
        self.log.flush()


def answer_text(response: requests.Response) -> str:
    """The start of the body of an answer :func:`webhook_submit` returned, with the
    call's secrets hidden as in the request log (for notifications)."""
    return response.redacted_text()  # type: ignore[attr-defined]


def _check_uses(uses: list[tuple[Any, list[str]]], method: str) -> None:
    """Elements of other namespaces only where the namespace rule allows them
    (:func:`apps.data.permissions.use_check`): nothing is sent otherwise."""
    try:
        for element, fields in uses:
            use_check(element, fields)
    except CrossNamespaceDenied as denied:
        raise GatewayError(str(denied), code=denied.code, method=method) from None


def _secret_params(authorization: Authorization | None) -> set[str]:
    """Query parameters that carry a secret of this authorization (an API key in the query)."""
    if (
        authorization is not None
        and authorization.kind == Authorization.Kind.API_KEY
        and authorization.key_in == Authorization.KeyIn.QUERY
    ):
        return {authorization.key_name}
    return set()


class Fetch:
    """The pages of a webhook's answer, requested as they are iterated."""

    def __init__(
        self,
        call: Call,
        *,
        body: bytes | None,
        all_pages: bool,
        start: PageRequest | None = None,
        keep_open: bool = False,
    ) -> None:
        self.call = call
        self._keep_open = keep_open  # the caller reuses the call (its session) and closes it
        self.stats = FetchStats()
        self._body = body
        self._all_pages = all_pages
        self._start = start
        # After a page: the request of the page after it (None: it was the last one), so
        # that a caller reading page by page can resume from there later.
        self.next_request: PageRequest | None = None
        self._pages = self._walk()

    def __iter__(self) -> Iterator[Page]:
        return self

    def __next__(self) -> Page:
        return next(self._pages)

    def close(self) -> None:
        """Stop early: close the session and write the log (also done when exhausted)."""
        self._pages.close()

    def _walk(self) -> Generator[Page, None, None]:
        call, webhook = self.call, self.call.webhook
        paginated = bool(webhook.pagination) and webhook.pagination.get("type") != "none"
        paginator = paginator_for(webhook.pagination)
        started = time.perf_counter()
        seen: set[tuple] = set()
        request: PageRequest | None = self._start or paginator.first()
        number = 0
        try:
            while request is not None:
                if request.identity() in seen:
                    raise self._loop_error(request)
                seen.add(request.identity())
                number += 1
                url = request.url or call.url
                params = None if request.url else {**call.params, **request.params}
                response = call.send(url, params=params, body=self._body)
                body = call.json(response)
                records = records_of(body, webhook.records_path, whole_object=not paginated)
                if number == 1 and not records:
                    self._check_records_path(body, response)
                self.stats.pages += 1
                self.stats.records += len(records)
                self.stats.retries = call.retries
                if call.log.has_failures:  # readable while the fetch goes on
                    call.log.flush()
                following = paginator.next(
                    number=number, request=request, body=body, records=records, response=response
                )
                self.next_request = following
                yield Page(number, response.status_code, response.headers, records,
                           call.log_url(response.url))  # fmt: skip
                if not self._all_pages:
                    break
                request = following
        finally:
            self.stats.retries = call.retries
            self.stats.seconds = time.perf_counter() - started
            if self._keep_open:
                call.log.flush()
            else:
                call.close()

    def _check_records_path(self, body: Any, response: requests.Response) -> None:
        """A records path that names nothing in the first answer is a mistake, not an empty
        collection (which answers with an empty list there): say so, rather than import 0."""
        path = self.call.webhook.records_path
        if not path or path == "@" or not isinstance(body, dict) or not body:
            return
        if jmespath.search(path, body) is not None:
            return
        where = self.call.log_url(response.url)
        fields = ", ".join(str(name) for name in list(body)[:10])
        raise GatewayError(
            f"{self.call.method} {where}: the records path {path!r} matches nothing in the "
            f"answer (its fields: {fields}); fix the webhook's records path.",
            code="records_path",
            method=self.call.method,
            url=where,
        )

    def _loop_error(self, request: PageRequest) -> GatewayError:
        what = self.call.log_url(request.url) if request.url else request.params
        return GatewayError(
            f"Pagination of webhook {self.call.webhook} asks again for a page it has read "
            f"({what}); stopped to avoid an endless loop.",
            code="pagination_loop",
            method=self.call.method,
            url=self.call.log_url(request.url or self.call.url),
        )


def webhook_fetch(
    *,
    webhook: Webhook,
    connection: Connection | None = None,
    template_values: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    body: Any = None,
    all_pages: bool = True,
    authorization: Authorization | None = None,
    start: PageRequest | None = None,
) -> Fetch:
    """Call ``webhook`` and iterate the pages of its answer (only the first without
    ``all_pages``), from ``start`` (a page's ``fetch.next_request``) or the first page.
    ``connection`` defaults to the webhook's. Nothing is sent before the first page
    is asked for."""
    call = Call(
        webhook=webhook, connection=connection, template_values=template_values,
        parameters=parameters, headers=headers, authorization=authorization,
    )  # fmt: skip
    return Fetch(call, body=call.body(body), all_pages=all_pages, start=start)


def webhook_submit(
    *,
    webhook: Webhook,
    body: Any = None,
    connection: Connection | None = None,
    template_values: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    authorization: Authorization | None = None,
    content_type: str | None = None,
) -> requests.Response:
    """Send ``body`` (objects and lists as JSON; None: the webhook's body template)
    to ``webhook``; the answer (status < 400), or GatewayError. A text body goes
    with ``content_type`` unless the webhook or connection sets a Content-Type."""
    call = Call(
        webhook=webhook, connection=connection, template_values=template_values,
        parameters=parameters, headers=headers, authorization=authorization,
    )  # fmt: skip
    try:
        body_bytes = call.body(body, content_type)
        return call.send(call.url, params=call.params, body=body_bytes)
    finally:
        call.close()
