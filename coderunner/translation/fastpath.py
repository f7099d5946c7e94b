"""A mapping compiled to one Python function: the hot path of ``Mapping.apply``.

Interpreting a JMESPath AST or running a Jinja2 template costs microseconds
per field; plain Python costs tens of nanoseconds. So the common shapes of
expression are translated to Python source, once, into one function that
builds the whole target record:

* JMESPath fields and dotted paths become ``.get`` walks. JMESPath gives None
  when a step is not an object; so do they: each shared prefix is looked up
  once and replaced by an empty dict when it is not one (identical results
  on JSON values).
* ``@``, literals, ``[a, b]`` lists and function calls (``join``, ``lower``,
  ``upper``, ``trim`` by shortcut, the others through JMESPath's own
  function table, type checks included).
* Jinja2 expressions made of variables, constants, ``~`` and the ``upper``,
  ``lower``, ``trim``, ``capitalize`` and ``string`` filters, guarded: when a
  variable is missing from the record, the field falls back to Jinja2 itself,
  so undefined values behave exactly as there.

Anything else calls the field's own evaluator. User text enters the source
only as ``repr()`` literals or as names bound in the function's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jinja2 import nodes

from .functions import FAST_FUNCTIONS, call_function

if TYPE_CHECKING:
    from .mapping import MappedField

_EMPTY: dict = {}  # stands for "not an object" in path walks; never written to
# Names Jinja2 may resolve other than from the context.
_JINJA_SPECIAL_NAMES = {"self", "loop", "varargs", "kwargs", "caller", "super"}
_JINJA_FILTERS = {
    "upper": "str({}).upper()",
    "lower": "str({}).lower()",
    "trim": "str({}).strip()",
    "capitalize": "str({}).capitalize()",
    "string": "str({})",
}


class _Generator:
    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"_EMPTY": _EMPTY, "_call": call_function}
        self.prelude: list[str] = []
        self.containers: dict[tuple[str, ...], str] = {(): "record"}
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"_{prefix}{self._count}"

    def bind(self, value: Any) -> str:
        name = self.name("k")
        self.namespace[name] = value
        return name

    # JMESPath -------------------------------------------------------------

    def container(self, keys: tuple[str, ...]) -> str:
        """A variable holding the object at ``keys``, or ``_EMPTY`` if it is not one."""
        if keys not in self.containers:
            parent = self.container(keys[:-1])
            variable = self.name("o")
            self.prelude.append(f"{variable} = {parent}.get({keys[-1]!r})")
            self.prelude.append(f"if not isinstance({variable}, dict): {variable} = _EMPTY")
            self.containers[keys] = variable
        return self.containers[keys]

    def jmespath(self, node: dict) -> str | None:
        kind = node["type"]
        children = node["children"]
        if kind == "field":
            return f"record.get({node['value']!r})"
        if kind == "subexpression" and all(child["type"] == "field" for child in children):
            keys = tuple(child["value"] for child in children)
            return f"{self.container(keys[:-1])}.get({keys[-1]!r})"
        if kind == "current":
            return "record"
        if kind == "literal":
            return self.bind(node["value"])
        if kind in {"multi_select_list", "function_expression"}:
            parts = [self.jmespath(child) for child in children]
            if None in parts:
                return None
            arguments = ", ".join(parts)  # type: ignore[arg-type]
            if kind == "multi_select_list":  # the record is never None here
                return f"[{arguments}]"
            arity, shortcut = FAST_FUNCTIONS.get(node["value"], (None, None))
            if arity == len(parts):
                return f"{self.bind(shortcut)}({arguments})"
            return f"_call({node['value']!r}, [{arguments}])"
        return None

    # Jinja2 ---------------------------------------------------------------

    def jinja(self, node: nodes.Node, names: set[str]) -> str | None:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name == "record":
                return "record"
            if node.name in _JINJA_SPECIAL_NAMES:
                return None
            names.add(node.name)
            return f"record[{node.name!r}]"
        if isinstance(node, nodes.Const) and isinstance(node.value, str | int | float | None):
            return self.bind(node.value)
        if isinstance(node, nodes.Concat):
            parts = [self.jinja(child, names) for child in node.nodes]
            if None in parts:
                return None
            return '"".join((' + "".join(f"str({part}), " for part in parts) + "))"
        if (
            isinstance(node, nodes.Filter)
            and node.name in _JINJA_FILTERS
            and node.node is not None
            and not (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)
        ):
            inner = self.jinja(node.node, names)
            return None if inner is None else _JINJA_FILTERS[node.name].format(inner)
        return None

    # Fields ---------------------------------------------------------------

    def field(self, field: MappedField) -> str:
        source = None
        if field.kind in {"path", "jmespath"}:
            source = self.jmespath(field.parsed)
        elif field.kind == "constant" and not isinstance(field.parsed, dict | list):
            source = self.bind(field.parsed)
        elif field.kind == "jinja":
            names: set[str] = set()
            source = self.jinja(field.parsed, names)
            if source is not None and names:
                present = " and ".join(f"{name!r} in record" for name in sorted(names))
                fallback = f"{self.bind(field.evaluate)}(record)"
                source = f"({source} if {present} else {fallback})"
        return source or f"{self.bind(field.evaluate)}(record)"

    def object(self, tree: dict, *, omit_none: bool, into: str, lines: list[str]) -> str:
        """Source for the object of ``tree``: a dict display, or statements filling ``into``."""
        from .mapping import MappedField

        if not omit_none:
            items = []
            for key, node in tree.items():
                if isinstance(node, MappedField):
                    items.append(f"{key!r}: {self.field(node)}")
                else:
                    items.append(
                        f"{key!r}: {self.object(node, omit_none=False, into='', lines=lines)}"
                    )
            return "{" + ", ".join(items) + "}"
        lines.append(f"{into} = {{}}")
        for key, node in tree.items():
            if isinstance(node, MappedField):
                value = self.name("v")
                lines.append(f"{value} = {self.field(node)}")
                lines.append(f"if {value} is not None: {into}[{key!r}] = {value}")
            else:
                child = self.name("d")
                self.object(node, omit_none=True, into=child, lines=lines)
                # A nested object with nothing in it is missing too.
                lines.append(f"if {child}: {into}[{key!r}] = {child}")
        return into


def compile_apply(tree: dict, *, omit_none: bool) -> Callable[[dict], dict]:
    """One function ``record → target record`` for the mapping's tree of fields."""
    generator = _Generator()
    lines: list[str] = []
    result = generator.object(tree, omit_none=omit_none, into="_out", lines=lines)
    body = [*generator.prelude, *lines, f"return {result}"]
    source = "def apply(record):\n" + "".join(f"    {line}\n" for line in body)
    namespace = dict(generator.namespace)
    exec(compile(source, "<mapping>", "exec"), namespace)  # noqa: S102 - see the module docstring
    apply = namespace["apply"]
    apply.source = source
    return apply
