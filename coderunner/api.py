"""The ``api`` object user code gets inside a runner: every method is a message to the platform.

Nothing here holds a record, a credential or a connection: ``api.records("Contact").save(…)``
sends ``{"call": "records.save", "args": {"data_type": "Contact", "records": […]}}`` and waits
for the platform's answer, which checked the reference against the algorithm's namespace.
Arguments and answers are plain JSON values; a reference is a string, sent as it is.

A call the platform refuses raises an exception named as the platform's error
(``GatewayError``, ``UnknownReference``...) that user code may catch; a call that
must end the job (the task was cancelled) unwinds it, uncatchably. Time spent
waiting for an answer does not count against the time limit.
"""

from __future__ import annotations

from typing import Any

from .protocol import HEADER, ProtocolError, decode, encode, read_exactly, write_frame
from .sandbox.runtime import Abort, paused

MAX_DEPTH = 10


class APIError(Exception):
    """A call the platform refused; ``code`` and ``status`` say why (for the platform's retries)."""

    code = "api_error"
    status: int | None = None


_ERROR_CLASSES: dict[str, type[APIError]] = {}


def _api_error(fail: dict) -> APIError:
    name = str(fail.get("type") or "APIError")
    if not name.isidentifier():
        name = "APIError"
    kind = _ERROR_CLASSES.get(name)
    if kind is None:
        kind = _ERROR_CLASSES[name] = type(name, (APIError,), {"__module__": "api"})
    error = kind(str(fail.get("message", "")))
    error.code = str(fail.get("code") or "api_error")
    status = fail.get("status")
    error.status = status if isinstance(status, int) else None
    return error


class HostAbort(Abort):
    """The platform ended the job while it waited for an answer (e.g. the task was cancelled)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


class Channel:
    """The runner's two pipes: frames in, frames out, one job at a time."""

    def __init__(self, in_fd: int, out_fd: int, *, max_frame: int) -> None:
        self.in_fd, self.out_fd, self.max_frame = in_fd, out_fd, max_frame
        self.max_in_frame = max_frame
        self.in_job = False

    def send(self, message: Any) -> None:
        write_frame(self.out_fd, encode(message))

    def receive(self) -> Any:
        (size,) = HEADER.unpack(read_exactly(self.in_fd, HEADER.size))
        if size > self.max_in_frame:
            raise ProtocolError(f"a frame of {size} bytes is larger than {self.max_in_frame}")
        return decode(read_exactly(self.in_fd, size))

    def call(self, op: str, args: dict[str, Any]) -> Any:
        if not self.in_job:
            # e.g. a __del__ run by the garbage collector after its job ended
            raise APIError("The api can only be used while the algorithm runs.")
        try:
            frame = encode({"call": op, "args": args})
        except (TypeError, ValueError) as error:
            raise TypeError(f"api: the arguments must be JSON values ({error}).") from None
        except RecursionError:
            raise TypeError("api: the arguments are nested too deeply.") from None
        if len(frame) > self.max_frame:
            raise ValueError(f"api: the arguments are larger than {self.max_frame} bytes.")
        with paused():
            write_frame(self.out_fd, frame)
            answer = self.receive()
        if "reply" in answer:
            return answer["reply"]
        if "fail" in answer:
            raise _api_error(answer["fail"])
        abort = answer.get("abort") or {}
        raise HostAbort(str(abort.get("message", "stopped")), str(abort.get("code", "aborted")))


def _reference(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(
            f"{what} is a name like 'Contact' or 'crm.Contact', not {type(value).__name__}"
        )
    return value


class Records:
    """``api.records("Contact")``: the records of one data type of the algorithm's namespace."""

    def __init__(self, channel: Channel, data_type: str) -> None:
        self._channel, self._data_type = channel, data_type

    def _call(self, op: str, **args: Any) -> Any:
        return self._channel.call(f"records.{op}", {"data_type": self._data_type, **args})

    def get(self, key: Any) -> Any:
        return self._call("get", key=key if isinstance(key, str | int) else str(key))

    def all(self, limit: int = 1000) -> list:
        return self._call("all", limit=limit)

    def find(self, limit: int = 1000, **fields: Any) -> list:
        return self._call("find", limit=limit, fields=fields)

    def count(self) -> int:
        return self._call("count")

    def save(self, records: Any) -> dict:
        return self._call("save", records=records)

    def save_imported(
        self, records: Any, primary_key: str = "id", replaces: Any = None, cursor_field=None
    ) -> dict:
        """Store records as a remote API sent them: ``{remote_id, raw_data, hmac,
        imported_at, last_source}``, upserted by remote_id. ``records``: a list, or a page
        fetch_page(hold=True) holds. ``replaces`` names a local record (its key) that the
        stored one takes the place of; with ``cursor_field``, the answer's ``cursor`` is
        the greatest value of that field."""
        return self._call(
            "save_imported", records=records, primary_key=primary_key, replaces=replaces,
            cursor_field=cursor_field,
        )  # fmt: skip

    def delete(self, key: Any) -> bool:
        return self._call("delete", key=key if isinstance(key, str | int) else str(key))


class Task:
    """``api.task``: the running task's state (a dict kept between lots), progress, run_again."""

    def __init__(self, channel: Channel, state: dict | None) -> None:
        self._channel = channel
        self._has_task = state is not None
        self.state = state if state is not None else {}
        self.again = False

    def progress(self, percent: float) -> None:
        if self._has_task:
            self._channel.call("task.progress", {"percent": percent})

    def run_again(self) -> None:
        if not self._has_task:
            raise RuntimeError("run_again needs a task: run the algorithm as a task.")
        self.again = True

    def checkpoint(self) -> None:
        """Store ``state`` now: a run that stops after this resumes from here."""
        if not self._has_task:
            raise RuntimeError("checkpoint needs a task: run the algorithm as a task.")
        self._channel.call("task.checkpoint", {"state": self.state})

    def last_result(self) -> Any:
        """What the last completed run of this algorithm returned (None if none)."""
        return self._channel.call("task.last_result", {})


class API:
    """The ``api`` name inside an algorithm."""

    def __init__(self, channel: Channel, *, task_state: dict | None, run) -> None:
        self._channel = channel
        self._run = run
        self._depth = 0
        self.task = Task(channel, task_state)

    def records(self, data_type: str) -> Records:
        return Records(self._channel, _reference(data_type, "A data type"))

    def fetch(self, webhook: str, values=None, params=None, all_pages: bool = True) -> list:
        """Call a webhook and return the records of all its pages (or the first)."""
        return self._channel.call(
            "fetch",
            {
                "webhook": _reference(webhook, "A webhook"),
                "values": values,
                "params": params,
                "all_pages": bool(all_pages),
            },
        )

    def fetch_page(self, webhook: str, values=None, params=None, page=None, hold=False) -> dict:
        """One page of a webhook's answer: {records, count, next}; pass ``next`` as ``page``
        to get the page after it (``next`` is None after the last page). With ``hold`` the
        records stay in the platform: ``records`` refers to them, for save_imported."""
        return self._channel.call(
            "fetch_page",
            {"webhook": _reference(webhook, "A webhook"), "values": values, "params": params,
             "page": page, "hold": bool(hold)},
        )  # fmt: skip

    def search(self, expression: str, data: Any) -> Any:
        """A JMESPath expression over ``data`` (evaluated by the platform)."""
        return self._channel.call("search", {"expression": expression, "data": data})

    def lock(self, name: str, seconds: float = 120, wait: float = 30) -> bool:
        """Take the namespace's lock ``name`` (waiting up to ``wait`` s); True when taken.
        Work on one thing by one job at a time; the lock ends with the job at the latest."""
        return self._channel.call("lock", {"name": name, "seconds": seconds, "wait": wait})

    def unlock(self, name: str) -> bool:
        return self._channel.call("unlock", {"name": name})

    def hmac(self, data: Any) -> str:
        """The digest the platform compares to tell changed records (sha256 of sorted JSON)."""
        return self._channel.call("hmac", {"data": data})

    def submit(self, webhook: str, body=None, values=None, params=None, check=True) -> dict:
        """Send a body to a webhook; returns {status, headers, body}. An HTTP error raises,
        unless ``check`` is false: then it is returned too, with ``error``."""
        return self._channel.call(
            "submit",
            {"webhook": _reference(webhook, "A webhook"), "body": body, "values": values,
             "params": params, "check": bool(check)},
        )  # fmt: skip

    def notify(self, message: Any, level: str = "info", attachment: Any = None) -> None:
        self._channel.call(
            "notify", {"message": str(message), "level": str(level), "attachment": attachment}
        )

    def run(self, algorithm: str, **arguments: Any) -> Any:
        """Call another algorithm of the namespace and return its result."""
        if self._depth >= MAX_DEPTH:
            raise RecursionError(f"Algorithms call each other more than {MAX_DEPTH} deep.")
        found = self._channel.call(
            "run", {"algorithm": _reference(algorithm, "An algorithm"), "arguments": arguments}
        )
        self._depth += 1
        try:
            return self._run(found)
        finally:
            self._depth -= 1
