"""The modules user code may import, and the read-only views it gets of them.

Only an ``import`` statement of the user's own code is checked: C code the
user calls (``datetime.strptime`` imports ``_strptime``) imports through the
same ``__import__`` and gets Python's. An allowed module is seen through a
:class:`ModuleProxy`: its public names, but never a module it imported
(``uuid.os``, ``datetime.sys``) unless that is allowed too
(``collections.abc``), nor the few names of ``HIDDEN_MODULE_NAMES``.
``random`` is a generator of the run's own, so ``random.seed`` changes
neither the host's sequence nor another run's.
"""

from __future__ import annotations

import builtins
import dis
import functools
import importlib
import random
import sys
from collections.abc import Callable
from types import FunctionType, ModuleType
from typing import Any

from .errors import ForbiddenAccess, ForbiddenImport

ALLOWED_MODULES = frozenset(
    {
        "base64",
        "collections",
        "collections.abc",
        "datetime",
        "decimal",
        "functools",
        "hashlib",
        "hmac",
        "itertools",
        "json",
        "math",
        "random",
        "re",
        "statistics",
        "string",
        "uuid",
    }
)
# Names an allowed module has but user code must not use: they change state
# shared by the whole process (decimal's template contexts), reveal the host
# (uuid1 embeds the MAC address; getnode may run a subprocess), or bypass the
# attribute guard (string.Formatter, like str.format).
HIDDEN_MODULE_NAMES = {
    "decimal": frozenset({"DefaultContext", "BasicContext", "ExtendedContext"}),
    "string": frozenset({"Formatter"}),
    "uuid": frozenset({"uuid1", "getnode"}),
}

# Every code object compiled from user source has a filename starting so.
USER_FILENAME_PREFIX = "<algorithm "
# The ``__name__`` of the code's globals, hence the ``__module__`` of its classes.
SANDBOX_MODULE_NAME = "<algorithm>"
_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


class ModuleProxy:
    """A read-only view of an allowed module: its public names, never another module."""

    __slots__ = ("_hidden", "_module", "_names", "_rng")

    def __init__(self, module: ModuleType, rng: random.Random | None = None) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_hidden", HIDDEN_MODULE_NAMES.get(module.__name__, ()))
        object.__setattr__(self, "_names", {})
        object.__setattr__(self, "_rng", rng)

    def __getattr__(self, name: str) -> Any:
        names = object.__getattribute__(self, "_names")
        if name in names:
            return names[name]
        module = object.__getattribute__(self, "_module")
        if name[:1] == "_" or name in object.__getattribute__(self, "_hidden"):
            raise ForbiddenAccess(f"{module.__name__}.{name} is not available.")
        value = REPLACED_MODULE_NAMES.get((module.__name__, name)) or getattr(module, name)
        if isinstance(value, ModuleType):
            full = f"{module.__name__}.{name}"
            if full not in ALLOWED_MODULES:
                raise ForbiddenAccess(f"The module {full!r} is not available.")
            value = _PROXIES[full]
        rng = object.__getattribute__(self, "_rng")
        if rng is not None and isinstance(getattr(value, "__self__", None), random.Random):
            # random.randint etc. are methods of one process-wide generator: use this run's.
            value = getattr(rng, name)
        names[name] = value
        return value

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_module').__name__!r} (sandboxed)>"


def _own(wrapper: Any) -> bool:
    """Is ``wrapper`` the user's own: a function of theirs, or an instance of their class?"""
    if isinstance(wrapper, FunctionType):
        return wrapper.__code__.co_filename.startswith(USER_FILENAME_PREFIX)
    return getattr(type(wrapper), "__module__", None) == SANDBOX_MODULE_NAME


def _wrapper_names(
    wrapper: Any, assigned: Any, updated: Any
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    assigned, updated = tuple(assigned), tuple(updated)  # iterated once: what is checked is used
    if not (
        all(type(name) is str for name in assigned + updated)
        and set(assigned) <= set(functools.WRAPPER_ASSIGNMENTS)
        and set(updated) <= set(functools.WRAPPER_UPDATES)
    ):
        raise ForbiddenAccess(
            "functools.update_wrapper and functools.wraps copy only the default attributes "
            "(__module__, __name__, __qualname__, __doc__, __dict__)."
        )
    if not _own(wrapper):
        raise ForbiddenAccess(
            "functools.update_wrapper and functools.wraps change only the algorithm's own "
            "functions and objects."
        )
    # Annotations stay behind: typing.get_type_hints (functools.singledispatch) evaluates them.
    return tuple(name for name in assigned if name != "__annotations__"), updated


def _update_wrapper(
    wrapper: Any,
    wrapped: Any,
    assigned: Any = functools.WRAPPER_ASSIGNMENTS,
    updated: Any = functools.WRAPPER_UPDATES,
) -> Any:
    assigned, updated = _wrapper_names(wrapper, assigned, updated)
    return functools.update_wrapper(wrapper, wrapped, assigned, updated)


def _wraps(
    wrapped: Any,
    assigned: Any = functools.WRAPPER_ASSIGNMENTS,
    updated: Any = functools.WRAPPER_UPDATES,
) -> Callable[[Any], Any]:
    return functools.partial(
        _update_wrapper, wrapped=wrapped, assigned=tuple(assigned), updated=tuple(updated)
    )


# Functions of allowed modules that write attributes by the names they are given,
# beyond the attribute guard's reach: with ``updated=("__globals__",)``,
# functools.update_wrapper merged the globals of ``uuid`` — ``os`` among them — into
# the algorithm's own (the review's escape). User code gets these versions instead.
REPLACED_MODULE_NAMES: dict[tuple[str, str], Any] = {
    ("functools", "update_wrapper"): _update_wrapper,
    ("functools", "wraps"): _wraps,
}

_PROXIES = {}
for _name in sorted(ALLOWED_MODULES):
    _PROXIES[_name] = ModuleProxy(importlib.import_module(_name))


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    """``import name`` / ``from name import x`` in user code.

    C code run from a user frame imports through the same ``__import__``
    (``datetime.strptime`` imports ``_strptime``): only an ``import``
    statement of the user's own code is checked.
    """
    caller = sys._getframe(1)
    code = caller.f_code
    if (
        not code.co_filename.startswith(USER_FILENAME_PREFIX)
        or code.co_code[caller.f_lasti] != _IMPORT_NAME
    ):
        return builtins.__import__(name, globals, locals, fromlist, level)
    if level != 0:
        raise ForbiddenImport("Relative imports are not allowed.")
    if name not in ALLOWED_MODULES:
        raise ForbiddenImport(f"Import of the module {name!r} is not allowed.")
    if name == "random" and globals and "_random_" in globals:
        return globals["_random_"]()
    return _PROXIES[name if fromlist else name.partition(".")[0]]


def random_module_factory() -> Callable[[], ModuleProxy]:
    """The ``_random_`` of one run: returns a ``random`` module with the run's own generator
    (``random.seed`` in one algorithm does not change the host's or another run's sequence)."""
    made: list[ModuleProxy] = []

    def get() -> ModuleProxy:
        if not made:
            made.append(ModuleProxy(random, rng=random.Random()))
        return made[0]

    return get
