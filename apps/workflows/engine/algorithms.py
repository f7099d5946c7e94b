"""Running algorithms: compiled once per version, with the ``api`` object they get.

The sandbox (``apps.workflows.sandbox``) decides what user code may do in the
language; the :class:`AlgorithmAPI` decides what it may do with the platform:
read and write records of data types, call webhooks, use its task's state
and ``run_again``, notify, and call other algorithms — all within the
algorithm's own namespace: permissions are granted per namespace, so code in
one namespace cannot reach the records or credentials of another.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.core.exceptions import ValidationError

from apps.data.models import DataType, Record
from apps.data.services import records_save

from ..sandbox import SandboxError, compile_algorithm

_cache: OrderedDict[tuple, Any] = OrderedDict()
_lock = threading.Lock()
MAX_DEPTH = 10


def compile_algorithm_of(algorithm) -> Any:
    """The compiled code of an algorithm (cached by code and parameters); ValidationError
    with the line number when it does not compile or uses what the sandbox forbids."""
    names = tuple(algorithm.parameter_names)
    key = (algorithm.code, names, algorithm.namespace_id)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        compiled = compile_algorithm(
            algorithm.code, name=str(algorithm.name), parameters=list(names)
        )
    except SandboxError as error:
        raise ValidationError(_where(error), code=error.code) from None
    with _lock:
        _cache[key] = compiled
        while len(_cache) > 256:
            _cache.popitem(last=False)
    return compiled


def _where(error: SandboxError) -> str:
    return f"line {error.line}: {error.message}" if error.line else error.message


class AlgorithmFailed(Exception):
    """A run of user code failed; the message says which algorithm, line and why."""

    def __init__(self, message: str, code: str = "runtime") -> None:
        super().__init__(message)
        self.code = code


def run_algorithm(algorithm, arguments: dict[str, Any], *, context=None, depth: int = 0) -> Any:
    """Run ``algorithm`` with ``arguments`` (defaults and required parameters checked)."""
    values = bind_arguments(algorithm, arguments)
    compiled = compile_algorithm_of(algorithm)
    api = AlgorithmAPI(algorithm, context=context, depth=depth)
    try:
        return compiled.run(arguments=values, api=api, time_limit=algorithm.time_limit)
    except SandboxError as error:
        raise AlgorithmFailed(f"Algorithm {algorithm}, {_where(error)}", code=error.code) from None


def bind_arguments(algorithm, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a run: given ones, defaults, None for optional ones; checked.

    One check for the engine and the admin's "Run with input" form."""
    if not isinstance(arguments, dict):
        raise AlgorithmFailed(
            f"Algorithm {algorithm}: the input is an object of arguments.",
            code="invalid_argument",
        )
    values = {}
    for parameter in algorithm.parameters:
        name = parameter["name"]
        if name in arguments:
            values[name] = arguments[name]
        elif "default" in parameter:
            values[name] = parameter["default"]
        elif parameter.get("required", True):
            raise AlgorithmFailed(
                f"Algorithm {algorithm}: the parameter {name!r} is missing.",
                code="missing_argument",
            )
        else:
            values[name] = None
    for parameter in algorithm.parameters:
        _check_type(algorithm, parameter, values[parameter["name"]])
    unknown = set(arguments) - set(values)
    if unknown:
        raise AlgorithmFailed(
            f"Algorithm {algorithm}: unknown argument(s) {', '.join(sorted(unknown))}.",
            code="unknown_argument",
        )
    return values


_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _check_type(algorithm, parameter: dict, value: Any) -> None:
    kind = parameter.get("type", "any")
    if kind not in _TYPES or value is None:
        return
    wrong_bool = isinstance(value, bool) and kind in {"integer", "number"}
    if wrong_bool or not isinstance(value, _TYPES[kind]):
        raise AlgorithmFailed(
            f"Algorithm {algorithm}: the parameter {parameter['name']!r} must be "
            f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}, not {value!r:.60}.",
            code="invalid_argument",
        )


class RecordsAPI:
    """``api.records("Contact")``: the records of one data type."""

    def __init__(self, data_type: DataType) -> None:
        self._data_type = data_type

    def get(self, key):
        found = Record.objects.filter(data_type=self._data_type, key=str(key)).first()
        return found.data if found else None

    def all(self, limit: int = 1000) -> list:
        rows = Record.objects.filter(data_type=self._data_type).order_by("pk")[: int(limit)]
        return [r.data for r in rows]

    def find(self, limit: int = 1000, **fields) -> list:
        filters = {f"data__{name}": value for name, value in fields.items()}
        rows = Record.objects.filter(data_type=self._data_type, **filters).order_by("pk")
        return [r.data for r in rows[: int(limit)]]

    def count(self) -> int:
        return Record.objects.filter(data_type=self._data_type).count()

    def save(self, records) -> dict:
        items = records if isinstance(records, list) else [records]
        result = records_save(data_type=self._data_type, records=items, source="algorithm")
        return result.as_dict()

    def delete(self, key) -> bool:
        deleted, _ = Record.objects.filter(data_type=self._data_type, key=str(key)).delete()
        return bool(deleted)


class TaskAPI:
    """``api.task``: the running task's state, progress and ``run_again``."""

    def __init__(self, context) -> None:
        self._context = context

    @property
    def state(self) -> dict:
        return self._context.state if self._context else {}

    def progress(self, percent: float) -> None:
        if self._context:
            self._context.progress(percent)

    def run_again(self) -> None:
        if self._context is None:
            raise AlgorithmFailed("run_again needs a task: run the algorithm as a task.")
        self._context.run_again()


class AlgorithmAPI:
    """The ``api`` name inside an algorithm."""

    def __init__(self, algorithm, *, context=None, depth: int = 0) -> None:
        self._algorithm = algorithm
        self._context = context
        self._depth = depth
        self.task = TaskAPI(context)

    def _resolve(self, model, reference: str):
        from .references import UnknownReference, resolve, split

        namespace, _ = split(str(reference), self._algorithm.namespace)
        if namespace != self._algorithm.namespace.name:
            raise UnknownReference(
                f"{reference!r}: algorithms reach only their own namespace "
                f"({self._algorithm.namespace.name})."
            )
        return resolve(model, reference, default_namespace=self._algorithm.namespace)

    def records(self, data_type: str) -> RecordsAPI:
        return RecordsAPI(self._resolve(DataType, data_type))

    def fetch(self, webhook: str, values=None, params=None, all_pages: bool = True) -> list:
        """Call a webhook and return the records of all its pages."""
        from apps.gateway.client import webhook_fetch
        from apps.gateway.models import Webhook

        fetch = webhook_fetch(
            webhook=self._resolve(Webhook, webhook),
            template_values=values,
            parameters=params,
            all_pages=all_pages,
        )
        return [record for page in fetch for record in page.records]

    def submit(self, webhook: str, body=None, values=None, params=None) -> dict:
        """Send a body to a webhook; returns {status, headers, body}."""
        from apps.gateway.client import webhook_submit
        from apps.gateway.models import Webhook

        response = webhook_submit(
            webhook=self._resolve(Webhook, webhook),
            body=body,
            template_values=values,
            parameters=params,
        )
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.text
        return {"status": response.status_code, "headers": dict(response.headers), "body": parsed}

    def notify(self, message: str, level: str = "info", attachment=None) -> None:
        if self._context is not None:
            self._context.notify(str(message), level=level, attachment=attachment)
        else:
            from ..services import notify

            notify(
                namespace=self._algorithm.namespace_id,
                level=level,
                message=str(message),
                attachment=attachment,
            )

    def run(self, algorithm: str, **arguments) -> Any:
        """Call another algorithm and return its result."""
        if self._depth >= MAX_DEPTH:
            raise AlgorithmFailed(f"Algorithms call each other more than {MAX_DEPTH} deep.")
        from ..models import Algorithm

        other = self._resolve(Algorithm, algorithm)
        return run_algorithm(other, arguments, context=self._context, depth=self._depth + 1)
