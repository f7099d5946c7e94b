"""What an algorithm's ``api`` may ask the platform, answered here for the runner.

Each call arrives as ``(op, args)`` with plain JSON values. A reference
(``"Contact"``, ``"crm.Contact"``) is a string, taken once: it is checked
against the algorithm's namespace — code reaches only its own namespace — and
that same string is looked up. Sizes are bounded (RUNNER_MAX_RECORDS_PER_CALL).
A refused call is a :class:`CallFailed` that the user's code sees as an
exception named like the platform's error; a cancelled task ends the job.

Time spent answering calls does not count against the job's time limit, so a
job that keeps calling (``while True: api.notify(...)``) would run on for as
long as it likes: past RUNNER_TIME_LIMIT_MAX seconds of wall time, answers
included, its next call ends the job instead.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.json import KeyTransform

from apps.data import services as data_services
from apps.data.models import DataType, Record
from coderunner.host import CallAbort, CallFailed

from .references import UnknownReference, resolve, split

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
LEVELS = {"info", "notice", "warning", "error"}
HELD = "held-page:"  # the references of pages kept here (fetch_page with hold)
MAX_ATTACHMENT_BYTES = 100_000  # a notification's attachment, as JSON


# Calls that change nothing here or elsewhere: a cancellation is looked for at most twice
# a second before them (before every other call, at once).
READS = {
    "records.get", "records.all", "records.find", "records.count", "search", "hmac",
    "unlock", "task.last_result",
}  # fmt: skip


class AlgorithmCalls:
    """The ``on_call`` of one algorithm job: ``calls(op, args) -> JSON value``."""

    def __init__(self, algorithm, *, context, run_bound: Callable) -> None:
        self.algorithm = algorithm
        self.namespace = algorithm.namespace
        self.context = context
        self.bind = run_bound
        self.limit = settings.RUNNER_MAX_RECORDS_PER_CALL
        self._resolved: dict[tuple[str, str], Any] = {}
        self.deadline = time.monotonic() + settings.RUNNER_TIME_LIMIT_MAX
        self.owner = uuid.uuid4().hex  # of the locks this job takes
        self.locks: set[str] = set()
        self.held: dict[str, list] = {}  # pages fetch_page(hold=True) keeps for save_imported
        self.held_pages = 0
        self.calls: dict[tuple, Any] = {}  # gateway calls fetch_page reuses, page after page

    def __call__(self, op: str, args: dict) -> Any:
        if time.monotonic() > self.deadline:
            from .algorithms import AlgorithmFailed

            raise CallAbort(
                AlgorithmFailed(
                    f"Algorithm {self.algorithm}: it ran for more than "
                    f"{settings.RUNNER_TIME_LIMIT_MAX:g} s, counting the platform's answers to "
                    "its api calls: the most one run may take (RUNNER_TIME_LIMIT_MAX).",
                    code="timeout",
                ),
                code="timeout",
            )
        handler = self.HANDLERS.get(op)
        if handler is None:
            raise CallFailed(f"api has no {op!r}.", code="no_api")
        try:
            check = getattr(self.context, "check_cancelled", None)
            if check is not None:  # a cancelled task's code writes and calls out no more
                check(now=op not in READS)
            return handler(self, **args)
        except TypeError as error:  # wrong or missing arguments: the user's call
            raise CallFailed(
                f"api.{op}: {error}", kind="TypeError", code="invalid_argument"
            ) from None
        except (CallFailed, CallAbort):
            raise
        except UnknownReference as error:
            raise CallFailed(str(error), kind="UnknownReference", code=error.code) from None
        except ValidationError as error:
            raise CallFailed(
                "; ".join(error.messages), kind="ValidationError", code="invalid"
            ) from None
        except Exception as error:
            from ..engine.runner import Cancelled

            if isinstance(error, Cancelled):
                raise CallAbort(error, code="cancelled") from None
            if getattr(error, "code", None) is None and not hasattr(error, "status"):
                raise  # the platform's own failure: it ends the job and shows in the log
            raise CallFailed(
                str(error),
                kind=type(error).__name__,
                code=str(getattr(error, "code", "api_error")),
                status=getattr(error, "status", None),
            ) from None

    # References -----------------------------------------------------------

    def _resolve(self, model, reference: Any):
        if not isinstance(reference, str):
            raise CallFailed("A reference is a string like 'Contact' or 'crm.Contact'.")
        key = (model.__name__, reference)
        if key not in self._resolved:
            namespace, _ = split(reference, self.namespace)
            if namespace != self.namespace.name:
                raise UnknownReference(
                    f"{reference!r}: algorithms reach only their own namespace "
                    f"({self.namespace.name})."
                )
            self._resolved[key] = resolve(model, reference, default_namespace=self.namespace)
        return self._resolved[key]

    def _records(self, data_type: Any):
        return Record.objects.filter(data_type=self._resolve(DataType, data_type))

    def _bounded(self, limit: Any) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise CallFailed("limit is a whole number of records.", code="invalid_argument")
        if limit > self.limit:
            raise CallFailed(
                f"limit {limit} is more than the {self.limit} records one call may read.",
                code="invalid_argument",
            )
        return limit

    # Records --------------------------------------------------------------

    def records_get(self, *, data_type, key):
        found = self._records(data_type).filter(key=str(key)).first()
        return found.data if found else None

    def records_all(self, *, data_type, limit=1000):
        rows = self._records(data_type).order_by("pk")[: self._bounded(limit)]
        return [row.data for row in rows]

    def records_find(self, *, data_type, limit=1000, fields=None):
        """Records whose fields equal the given values (``find(status="open")``); dotted
        names reach nested fields. Equality only: no lookups, no regular expressions."""
        queryset = self._records(data_type)
        for index, (name, value) in enumerate((fields or {}).items()):
            if not _FIELD.match(name) or "__" in name:  # no Django lookups (regex, contains...)
                raise CallFailed(
                    f"find(): {name!r} is not a field name (find matches fields by equality; "
                    "a dotted name reaches a nested field).",
                    code="invalid_argument",
                )
            transform: Any = "data"
            for part in name.split("."):
                transform = KeyTransform(part, transform)
            alias = f"_find_{index}"
            queryset = queryset.alias(**{alias: transform}).filter(**{alias: value})
        return [row.data for row in queryset.order_by("pk")[: self._bounded(limit)]]

    def records_count(self, *, data_type):
        return self._records(data_type).count()

    def records_save(self, *, data_type, records):
        items = records if isinstance(records, list) else [records]
        if len(items) > self.limit:
            raise CallFailed(
                f"save(): {len(items)} records is more than the {self.limit} one call may write.",
                code="invalid_argument",
            )
        result = data_services.records_save(
            data_type=self._resolve(DataType, data_type),
            records=items,
            source=f"algorithm:{self.algorithm}",
        )
        return result.as_dict()

    def records_save_imported(
        self, *, data_type, records, primary_key="id", replaces=None, cursor_field=None
    ):
        """Remote records stored as a connector keeps them (library.save_imported);
        ``records`` may be a page that fetch_page holds (its reference)."""
        from .library import save_imported

        if isinstance(records, str) and records.startswith(HELD):
            if records not in self.held:
                raise CallFailed(
                    f"save_imported(): {records!r} is no page held by this run (each is "
                    "saved once).",
                    code="invalid_argument",
                )
            items = self.held.pop(records)
        else:
            items = records if isinstance(records, list) else [records]
        if len(items) > self.limit:
            raise CallFailed(
                f"save_imported(): {len(items)} records is more than the {self.limit} one call "
                "may write.",
                code="invalid_argument",
            )
        if not isinstance(primary_key, str) or not primary_key:
            raise CallFailed(
                "save_imported(): primary_key is a field name.", code="invalid_argument"
            )
        return save_imported(
            self._resolve(DataType, data_type),
            items,
            primary_key=primary_key,
            source=f"algorithm:{self.algorithm}",
            replaces=str(replaces) if replaces not in (None, "") else None,
            cursor_field=cursor_field if isinstance(cursor_field, str) and cursor_field else None,
        )

    def records_delete(self, *, data_type, key):
        deleted, _ = self._records(data_type).filter(key=str(key)).delete()
        return bool(deleted)

    # Webhooks -------------------------------------------------------------

    def fetch(self, *, webhook, values=None, params=None, all_pages=True):
        from apps.gateway.client import webhook_fetch
        from apps.gateway.models import Webhook

        fetched = webhook_fetch(
            webhook=self._resolve(Webhook, webhook),
            template_values=values,
            parameters=params,
            all_pages=bool(all_pages),
        )
        records: list = []
        for page in fetched:
            records.extend(page.records)
            if len(records) > self.limit:
                raise CallFailed(
                    f"fetch(): more than {self.limit} records; fetch page by page "
                    "(all_pages=False and the page in params).",
                    code="too_many_records",
                )
        return records

    def fetch_page(self, *, webhook, values=None, params=None, page=None, hold=False):
        """One page of a webhook's answer and the request of the next one (None after the
        last): ``{"records", "count", "next"}``. ``page`` is a ``next`` of an earlier call,
        so that an import can stop after any page and resume there. With ``hold``, the
        records stay here and ``records`` is a reference to them that save_imported takes:
        a page need not cross to the runner and back to be stored."""
        from apps.gateway.client import Call, Fetch
        from apps.gateway.models import Webhook
        from apps.gateway.pagination import PageRequest

        start = None
        if page is not None:
            if not isinstance(page, dict) or not isinstance(page.get("params", {}), dict):
                raise CallFailed(
                    "fetch_page(): page is the 'next' of an earlier answer.",
                    code="invalid_argument",
                )
            start = PageRequest(params=page.get("params") or {}, url=page.get("url") or None)
        # One call per webhook and arguments for the whole job: its session (kept-alive
        # connections), authorization and rendered URL serve every page.
        key = (webhook, json.dumps(values, sort_keys=True), json.dumps(params, sort_keys=True))
        call = self.calls.get(key)
        if call is None:
            call = Call(
                webhook=self._resolve(Webhook, webhook), connection=None,
                template_values=values, parameters=params, headers=None,
            )  # fmt: skip
            self.calls[key] = call
        fetch = Fetch(call, body=call.body(None), all_pages=False, start=start, keep_open=True)
        try:
            found = next(iter(fetch), None)
        finally:
            fetch.close()
        if found is None:
            return {"records": [], "next": None}
        if len(found.records) > self.limit:
            raise CallFailed(
                f"fetch_page(): the page holds {len(found.records)} records, more than the "
                f"{self.limit} one call may read; ask for smaller pages.",
                code="too_many_records",
            )
        following = fetch.next_request
        records: Any = found.records
        if hold:
            self.held.clear()  # one page at a time: an unsaved one is dropped
            self.held_pages += 1
            records = f"{HELD}{self.held_pages}"
            self.held[records] = found.records
        return {
            "records": records,
            "count": len(found.records),
            "next": {"params": following.params, "url": following.url} if following else None,
        }

    def search(self, *, expression, data=None):
        """A JMESPath expression over a value (bounded in size, as everywhere)."""
        from coderunner.translation.functions import compile_jmespath

        if not isinstance(expression, str):
            raise CallFailed("search(): the expression is a string.", code="invalid_argument")
        return compile_jmespath(expression).search(data)

    def lock(self, *, name, seconds=120, wait=30):
        """Take the namespace's lock ``name`` for ``seconds`` (waiting up to ``wait`` s for
        its holder); True when taken. Locks still held end with the job."""
        from .library import lock_acquire

        if not isinstance(name, str) or not name or len(name) > 300:
            raise CallFailed("lock(): the name is a string of 1 to 300 characters.")
        for value in (seconds, wait):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise CallFailed("lock(): seconds and wait are numbers.", code="invalid_argument")
        taken = lock_acquire(
            namespace_id=self.namespace.pk, name=name, owner=self.owner,
            seconds=min(float(seconds), 3600.0), wait=min(float(wait), 120.0),
        )  # fmt: skip
        if taken:
            self.locks.add(name)
        return taken

    def unlock(self, *, name):
        from .library import lock_release

        self.locks.discard(name)
        return lock_release(namespace_id=self.namespace.pk, name=str(name), owner=self.owner)

    def finish(self) -> None:
        """At the end of the job: release the locks it still holds, close its calls."""
        from .library import lock_release

        for name in list(self.locks):
            lock_release(namespace_id=self.namespace.pk, name=name, owner=self.owner)
        self.locks.clear()
        for call in self.calls.values():
            call.close()
        self.calls.clear()
        self.held.clear()

    def hmac(self, *, data=None):
        from .library import record_hmac

        return record_hmac(data)

    def submit(self, *, webhook, body=None, values=None, params=None, check=True):
        """Send a body; ``{status, headers, body}``. An HTTP error answer raises, unless
        ``check`` is false: then it is returned, with ``error`` saying what failed."""
        from apps.gateway.client import GatewayError, webhook_submit
        from apps.gateway.models import Webhook

        try:
            response = webhook_submit(
                webhook=self._resolve(Webhook, webhook),
                body=body,
                template_values=values,
                parameters=params,
            )
        except GatewayError as error:
            if check or error.status is None:
                raise
            try:
                answer = json.loads(error.body)
            except ValueError:
                answer = error.body
            return {"status": error.status, "headers": {}, "body": answer, "error": str(error)}
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.text
        return {"status": response.status_code, "headers": dict(response.headers), "body": parsed}

    # The rest -------------------------------------------------------------

    def notify(self, *, message, level="info", attachment=None):
        level = level if level in LEVELS else "info"
        size = len(json.dumps(attachment))
        if size > MAX_ATTACHMENT_BYTES:
            raise CallFailed(
                f"notify(): the attachment is {size} bytes of JSON, more than the "
                f"{MAX_ATTACHMENT_BYTES} a notification may hold.",
                code="invalid_argument",
            )
        if self.context is not None:
            self.context.notify(str(message), level=level, attachment=attachment)
        else:
            from ..services import notify

            notify(
                namespace=self.algorithm.namespace_id,
                level=level,
                message=str(message),
                attachment=attachment,
            )

    def run(self, *, algorithm, arguments=None):
        """Another algorithm of the namespace, for the runner to run in the same job."""
        from ..models import Algorithm
        from .algorithms import AlgorithmFailed

        other = self._resolve(Algorithm, algorithm)
        try:
            bound = self.bind(other, arguments or {})
        except AlgorithmFailed as error:
            raise CallFailed(str(error), kind="AlgorithmFailed", code=error.code) from None
        return {
            "name": str(other),
            "code": other.code,
            "parameters": other.parameter_names,
            "arguments": bound,
        }

    def task_progress(self, *, percent):
        if self.context is not None:
            if isinstance(percent, bool) or not isinstance(percent, int | float):
                raise CallFailed("progress() takes a number from 0 to 100.")
            self.context.progress(percent)

    def task_checkpoint(self, *, state):
        """Store the task's state now (a lot done), so that a run stopped after this
        resumes from here."""
        if self.context is None:
            raise CallFailed("checkpoint() needs a task: run the algorithm as a task.")
        if not isinstance(state, dict):
            raise CallFailed("checkpoint(): the state is an object.", code="invalid_argument")
        self.context.state.clear()
        self.context.state.update(state)
        self.context.save_state()

    def task_last_result(self):
        """The result of the last completed task of this algorithm (run alone or by a flow)."""
        from django.db.models import Q

        from ..models import Task

        last = (
            Task.objects.filter(status=Task.Status.COMPLETED)
            .filter(Q(algorithm=self.algorithm) | Q(flow__algorithm=self.algorithm))
            .order_by("-finished_at", "-pk")
            .values_list("result", flat=True)
            .first()
        )
        if isinstance(last, dict) and set(last) == {"result"}:  # a flow's task wraps it
            return last["result"]
        return last

    HANDLERS: dict[str, Callable[..., Any]] = {
        "records.get": records_get,
        "records.all": records_all,
        "records.find": records_find,
        "records.count": records_count,
        "records.save": records_save,
        "records.delete": records_delete,
        "records.save_imported": records_save_imported,
        "fetch": fetch,
        "fetch_page": fetch_page,
        "hmac": hmac,
        "search": search,
        "lock": lock,
        "unlock": unlock,
        "submit": submit,
        "notify": notify,
        "run": run,
        "task.progress": task_progress,
        "task.checkpoint": task_checkpoint,
        "task.last_result": task_last_result,
    }
