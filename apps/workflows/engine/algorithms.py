"""Running algorithms: in an isolated runner process, with the platform answering their api.

An algorithm's code never runs here. :func:`run_algorithm` checks and binds
its arguments, sends the code and the arguments to a runner of the
algorithm's namespace (``apps.runners``), answers the calls the code makes
(``calls.AlgorithmCalls``: records, webhooks, notifications, other
algorithms, the task) and returns the JSON value the runner sent back.
:func:`run_algorithm_many` does the same for a lot of argument sets in one
job (a python translator over a page of records, a trigger evaluator over a
batch of writes).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.runners.services import run_job
from coderunner.host import JobFailed, RunnerError

from .calls import AlgorithmCalls


class AlgorithmFailed(Exception):
    """A run of user code failed; the message says which algorithm, line and why."""

    def __init__(self, message: str, code: str = "runtime", *, output: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.output = output


class RemoteCause(Exception):
    """What an uncaught api error of the user's code was (its code and HTTP status), so that
    the task's retry decision sees through the runner."""

    def __init__(self, code: str, status: int | None) -> None:
        super().__init__(code)
        self.code, self.status = code, status


def _job(algorithm, runs: list[dict], *, context, collect: bool) -> dict[str, Any]:
    return {
        "job": "algorithm",
        "name": str(algorithm),
        "code": algorithm.code,
        "parameters": algorithm.parameter_names,
        "runs": runs,
        "collect": collect,
        "task": {"state": context.state} if context is not None else None,
        "api": True,
    }


def _execute(algorithm, runs: list[dict], *, context, collect: bool = False) -> list:
    calls = AlgorithmCalls(algorithm, context=context, run_bound=bind_arguments)
    try:
        answer = run_job(
            _job(algorithm, runs, context=context, collect=collect),
            namespace_id=algorithm.namespace_id,
            time_limit=algorithm.time_limit,
            on_call=calls,
            should_stop=context.cancelled if context is not None else None,
        )
    except JobFailed as failed:
        error = AlgorithmFailed(
            f"Algorithm {algorithm}{_where(failed)}{failed.message}",
            failed.code,
            output=failed.output,
        )
        if failed.cause:
            raise error from RemoteCause(str(failed.cause.get("code")), failed.cause.get("status"))
        raise error from None
    except RunnerError as error:
        raise AlgorithmFailed(f"Algorithm {algorithm}: {error.message}", error.code) from None
    finally:
        calls.finish()
    if context is not None and isinstance(answer.get("task"), dict):
        state = answer["task"].get("state")
        if isinstance(state, dict) and state is not context.state:
            context.state.clear()
            context.state.update(state)
        if answer["task"].get("run_again"):
            context.run_again()
    return answer["values"]


def _where(failed: JobFailed) -> str:
    return f", line {failed.line}: " if failed.line else ": "


def run_algorithm(algorithm, arguments: dict[str, Any], *, context=None) -> Any:
    """Run ``algorithm`` once with ``arguments`` (defaults and required parameters checked)."""
    return _execute(algorithm, [bind_arguments(algorithm, arguments)], context=context)[0]


def run_algorithm_many(
    algorithm, argument_sets: list[dict[str, Any]], *, context=None, collect: bool = False
) -> list:
    """Run ``algorithm`` once per argument set, in one job. With ``collect``, a failing run
    gives an AlgorithmFailed in its place instead of failing them all."""
    runs = [bind_arguments(algorithm, arguments) for arguments in argument_sets]
    if not runs:
        return []
    values = _execute(algorithm, runs, context=context, collect=collect)
    if not collect:
        return values
    results: list[Any] = []
    for item in values:
        if "error" in item:
            failed = JobFailed(item["error"])
            results.append(
                AlgorithmFailed(f"Algorithm {algorithm}{_where(failed)}{failed.message}")
            )
        else:
            results.append(item.get("value"))
    return results


def check_algorithm(algorithm) -> None:
    """Compile the algorithm in a runner; ValidationError with the line when it does not
    compile or uses what the sandbox forbids (the platform never compiles user code)."""
    job = {
        "job": "check",
        "what": "algorithm",
        "name": str(algorithm),
        "code": algorithm.code,
        "parameters": algorithm.parameter_names,
    }
    try:
        run_job(job, namespace_id=algorithm.namespace_id, time_limit=10)
    except JobFailed as failed:
        raise ValidationError(str(failed), code=failed.code) from None
    except RunnerError as error:
        raise ValidationError(f"The code could not be checked: {error.message}") from None


def bind_arguments(algorithm, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a run: given ones, defaults, None for optional ones; checked."""
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
