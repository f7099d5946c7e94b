"""What user code sees instead of Python's builtins: guarded names, attributes and operators.

RestrictedPython rewrites the user's code so that attribute reads, writes,
imports, ``print`` and some operators go through the functions here (see
``policy.py``). They enforce the rules the compiler cannot see:

* attributes: no name starting with ``_``, none of the frame/code/generator
  introspection attributes, no ``mro`` (a path to ``BaseException``), no
  ``str.format`` (it reads attributes by itself), no module objects;
* writes (``x[k] = v``, ``x.a = v``, ``del``): only to dicts, lists, deques,
  instances of classes the algorithm defined, and host objects that opt in
  with a true ``_guarded_writes`` attribute;
* imports: see ``modules.py``;
* sizes: ``*``, ``**``, ``<<`` (and their augmented forms), ``bytes(n)``,
  ``str.ljust``-style padding and ``sum``/``min``/``max``/``sorted`` of a
  ``range`` refuse values past ``MAX_ITEMS`` items or ``MAX_INT_BITS`` bits.
  Not covered: ``list(range(10**10))``, ``"".join`` of huge parts, format
  widths (``f"{x:>10000000000}"``), ``itertools.repeat`` consumed by C code.
"""

from __future__ import annotations

import builtins
import collections
import operator
from types import ModuleType
from typing import Any

from RestrictedPython.Guards import safe_builtins
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from .errors import ForbiddenAccess, LimitExceeded
from .modules import ALLOWED_MODULES, SANDBOX_MODULE_NAME, guarded_import

MAX_ITEMS = 10_000_000
MAX_INT_BITS = 1_000_000
MAX_OUTPUT_CHARS = 1_000_000

_BLOCKED_ATTRIBUTES = INSPECT_ATTRIBUTES | {"mro"}
_STR_FORMATTERS = frozenset({"format", "format_map"})
_STR_PADDERS = frozenset({"ljust", "rjust", "center", "zfill"})
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_WRITABLE = (dict, list, collections.deque)
_OPEN_TYPE_MODULES = frozenset({"builtins", SANDBOX_MODULE_NAME})


# Attributes


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """``obj.name`` in user code (and the ``getattr`` builtin)."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name[:1] == "_" or name in _BLOCKED_ATTRIBUTES:
        raise ForbiddenAccess(f"Access to the attribute {name!r} is not allowed.")
    if name in _STR_FORMATTERS and (
        isinstance(obj, str) or (isinstance(obj, type) and issubclass(obj, str))
    ):
        raise ForbiddenAccess(f"str.{name}() is not allowed: use an f-string.")
    value = getattr(obj, name, *default)
    if type(value) is ModuleType:
        raise ForbiddenAccess(f"The module {value.__name__!r} is not available.")
    if name in _STR_PADDERS and isinstance(obj, (str, bytes)):
        return _padder(value)
    return value


def _padder(method):
    def pad(width, *args):
        if isinstance(width, int) and width > MAX_ITEMS:
            raise LimitExceeded(f"Padding to {width} characters exceeds the limit of {MAX_ITEMS}.")
        return method(width, *args)

    return pad


def guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


class _ReadOnly:
    """What ``_write_`` returns for an object user code may not change."""

    __slots__ = ("_ob",)

    def __init__(self, ob: Any) -> None:
        object.__setattr__(self, "_ob", ob)

    def _refuse(self, *args: Any) -> None:
        kind = type(object.__getattribute__(self, "_ob")).__name__
        raise ForbiddenAccess(f"{kind} objects cannot be changed by an algorithm.")

    __setitem__ = __delitem__ = __setattr__ = __delattr__ = _refuse


def guarded_write(ob: Any) -> Any:
    """The target of ``ob[k] = v``, ``ob.a = v`` and ``del``: ``ob`` itself, or a refusal."""
    kind = type(ob)
    if kind is dict or kind is list:
        return ob
    if (
        isinstance(ob, _WRITABLE)
        or getattr(kind, "__module__", None) == SANDBOX_MODULE_NAME
        or getattr(ob, "_guarded_writes", False)
    ):
        return ob
    return _ReadOnly(ob)


def guarded_setattr(obj: Any, name: str, value: Any) -> None:
    if type(name) is not str or name[:1] == "_":
        raise ForbiddenAccess(f"Setting the attribute {name!r} is not allowed.")
    setattr(guarded_write(obj), name, value)


def guarded_delattr(obj: Any, name: str) -> None:
    if type(name) is not str or name[:1] == "_":
        raise ForbiddenAccess(f"Deleting the attribute {name!r} is not allowed.")
    delattr(guarded_write(obj), name)


# Sizes


def _check_repeat(seq: Any, times: Any) -> None:
    if isinstance(seq, _SEQUENCES) and isinstance(times, int) and len(seq) * times > MAX_ITEMS:
        raise LimitExceeded(
            f"Repeating a sequence of {len(seq)} items {times} times exceeds the limit "
            f"of {MAX_ITEMS} items."
        )


def _check_power(base: Any, exponent: Any) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and abs(base) > 1
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise LimitExceeded(f"{base} ** {exponent} would have more than {MAX_INT_BITS} bits.")


def _check_shift(value: Any, shift: Any) -> None:
    if isinstance(value, int) and isinstance(shift, int) and value and shift > MAX_INT_BITS:
        raise LimitExceeded(f"Shifting by {shift} bits exceeds the limit of {MAX_INT_BITS} bits.")


def guarded_mult(a: Any, b: Any) -> Any:
    if isinstance(b, int) and isinstance(a, _SEQUENCES):
        _check_repeat(a, b)
    elif isinstance(a, int) and isinstance(b, _SEQUENCES):
        _check_repeat(b, a)
    return a * b


def guarded_pow(a: Any, b: Any, mod: Any = None) -> Any:
    if mod is not None:
        return pow(a, b, mod)
    _check_power(a, b)
    return a**b


def guarded_lshift(a: Any, b: Any) -> Any:
    _check_shift(a, b)
    return a << b


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "@=": operator.imatmul,
}


def guarded_inplacevar(op: str, x: Any, y: Any) -> Any:
    """``x op= y`` where the compiler routed it here (see ``policy.py``): in place, as Python."""
    if op == "*=":
        if isinstance(x, _SEQUENCES):
            _check_repeat(x, y)
        elif isinstance(y, _SEQUENCES):
            _check_repeat(y, x)
    elif op == "**=":
        _check_power(x, y)
    elif op == "<<=":
        _check_shift(x, y)
    return _INPLACE[op](x, y)


def _guard_range(value: Any) -> None:
    # A C builtin consuming a huge range neither sees the time limit nor a memory bound.
    if type(value) is range:
        try:
            size = len(value)
        except OverflowError:
            size = MAX_ITEMS + 1
        if size > MAX_ITEMS:
            raise LimitExceeded(f"A range of {size} items exceeds the limit of {MAX_ITEMS}.")


def _consuming(function):
    def consume(*args, **kwargs):
        if args:
            _guard_range(args[0])
        return function(*args, **kwargs)

    consume.__name__ = function.__name__
    return consume


def guarded_bytes(*args: Any, **kwargs: Any) -> bytes:
    if args and isinstance(args[0], int) and args[0] > MAX_ITEMS:
        raise LimitExceeded(f"bytes({args[0]}) exceeds the limit of {MAX_ITEMS} bytes.")
    _guard_range(args[0] if args else None)
    return bytes(*args, **kwargs)


def guarded_type(*args: Any) -> type:
    """``type(x)``, for the types of Python, the allowed modules and the algorithm's classes.

    The class of a host object (the ``api``, what it returns) is not given out:
    calling it would build a host object with arguments of the user's choosing.
    """
    if len(args) != 1:
        raise ForbiddenAccess("type() with three arguments (making a class) is not allowed.")
    kind = type(args[0])
    if issubclass(kind, type):
        # type(int) is ``type`` itself: with three arguments it makes classes whose
        # dunder methods run where the host least expects them.
        raise ForbiddenAccess("type() of a class is not available.")
    module = getattr(kind, "__module__", None) or ""
    if module not in _OPEN_TYPE_MODULES and module.lstrip("_").partition(".")[0] not in (
        ALLOWED_MODULES
    ):
        raise ForbiddenAccess(f"type() of a {kind.__name__} object is not available.")
    return kind


def guarded_apply(function: Any, *args: Any, **kwargs: Any) -> Any:
    """``f(*args, **kwargs)`` in user code."""
    return function(*args, **kwargs)


# Output


class PrintCollector:
    """Where ``print`` writes in user code: one buffer per run, capped in size."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def write(self, text: str) -> None:
        if self.size + len(text) > MAX_OUTPUT_CHARS:
            text = text[: max(MAX_OUTPUT_CHARS - self.size, 0)]
            self.truncated = True
        self.size += len(text)
        self.parts.append(text)

    def _call_print(self, *objects: Any, sep: str | None = " ", end: str | None = "\n", **_: Any):
        # ``file=`` and ``flush=`` are ignored: output always goes to the run's buffer.
        print(*objects, sep=sep, end=end, file=self)

    def __call__(self) -> str:
        """The ``printed`` name of RestrictedPython: all output so far."""
        return "".join(self.parts) + ("\n[output truncated]" if self.truncated else "")


# Builtins

_UNSAFE_BUILTINS = {"BaseException", "KeyboardInterrupt", "SystemExit", "GeneratorExit"}
# Names user code may not use unless it defines them itself (compile-time check).
FORBIDDEN_NAMES = frozenset(
    {
        "breakpoint",
        "compile",
        "dir",
        "eval",
        "exec",
        "exit",
        "globals",
        "help",
        "input",
        "locals",
        "memoryview",
        "open",
        "quit",
        "vars",
    }
)

SAFE_BUILTINS: dict[str, Any] = {
    name: value
    for name, value in safe_builtins.items()
    if name not in _UNSAFE_BUILTINS and (name[:1] != "_" or name == "__build_class__")
}
SAFE_BUILTINS.update(
    {
        name: getattr(builtins, name)
        for name in [
            "all",
            "any",
            "ascii",
            "bin",
            "enumerate",
            "filter",
            "format",
            "frozenset",
            "iter",
            "map",
            "next",
            "object",
            "reversed",
            "super",
            "zip",
            "dict",
            "list",
            "set",
            "tuple",
            "NotImplemented",
            "RecursionError",
            "ConnectionError",
            "TimeoutError",
            "ModuleNotFoundError",
        ]
    }
)
SAFE_BUILTINS.update(
    {name: _consuming(getattr(builtins, name)) for name in ("sorted", "sum", "min", "max")}
)
SAFE_BUILTINS.update(
    {
        "__import__": guarded_import,
        "bytes": guarded_bytes,
        "delattr": guarded_delattr,
        "getattr": guarded_getattr,
        "hasattr": guarded_hasattr,
        "pow": guarded_pow,
        "setattr": guarded_setattr,
        "type": guarded_type,
    }
)

# Globals every run shares; the run adds its own (``_print_``, ``_check_``, ``api``...).
STATIC_GLOBALS: dict[str, Any] = {
    "__name__": SANDBOX_MODULE_NAME,
    "__metaclass__": type,
    "_getattr_": guarded_getattr,
    "_getitem_": operator.getitem,
    "_write_": guarded_write,
    "_inplacevar_": guarded_inplacevar,
    "_apply_": guarded_apply,
    "_mult_": guarded_mult,
    "_pow_": guarded_pow,
    "_lshift_": guarded_lshift,
}
