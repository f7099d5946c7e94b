"""Compiling an algorithm: the user's function body, checked and rewritten by RestrictedPython.

The source is parsed as it is (so every line number is the user's), checked
and rewritten by :class:`AlgorithmPolicy` — RestrictedPython's policy plus this
sandbox's rules — and only then wrapped in a function whose parameters are the
algorithm's. All its code objects carry the filename ``<algorithm NAME>``,
which is how the runtime's tracer tells user frames from library frames.

What the policy adds to RestrictedPython's:

* imports are checked against the allowlist at compile time (code ``import``);
* names like ``open``, ``eval`` or ``BaseException`` are refused at compile
  time unless the code defines them itself;
* ``*``, ``**`` and ``<<`` go through size guards (constants too small to
  matter are left to Python's constant folding);
* ``x[k] += v`` and ``obj.a += v`` are allowed (RestrictedPython refuses them),
  through the same write guard as ``x[k] = v``; ``n += 1`` stays native;
* ``except`` may only name exception classes (no calls: nothing of the user's
  runs while an exception is matched), a bare ``except:`` means ``except
  Exception:``, and every handler and ``finally`` starts with ``_check_()``, so
  user code can neither catch the time limit nor run on after it;
* a loop whose body does nothing gets an assignment, so the tracer sees it turn;
* annotations are dropped: ``typing.get_type_hints`` (which
  ``functools.singledispatch`` calls) evaluates them with ``eval``, outside this
  policy, so ``def f(x: "().__class__.__base__.__subclasses__()")`` was code that
  ran unrestricted;
* sequence unpacking and ``for`` loops are not wrapped: the sandbox has no
  containers whose iteration needs a guard.
"""

from __future__ import annotations

import ast
import keyword
from types import CodeType

from RestrictedPython.transformer import FORBIDDEN_FUNC_NAMES, RestrictingNodeTransformer

from .errors import SandboxError
from .guards import FORBIDDEN_NAMES, guarded_lshift, guarded_mult, guarded_pow
from .modules import ALLOWED_MODULES, USER_FILENAME_PREFIX
from .runtime import CompiledAlgorithm

ENTRY_NAME = "_algorithm_"
RESERVED_NAMES = frozenset({"api"}) | FORBIDDEN_FUNC_NAMES
_UNAVAILABLE_EXCEPTIONS = frozenset(
    {"BaseException", "KeyboardInterrupt", "SystemExit", "GeneratorExit"}
)
_SIZE_GUARDS = {
    ast.Mult: ("_mult_", guarded_mult),
    ast.Pow: ("_pow_", guarded_pow),
    ast.LShift: ("_lshift_", guarded_lshift),
}


def compile_algorithm(source: str, *, name: str, parameters: list[str]) -> CompiledAlgorithm:
    """Compile the body of an algorithm once; run it with :meth:`CompiledAlgorithm.run`.

    ``source`` is a function body: ``parameters`` are its local names and
    ``return`` gives the result. Raises :class:`SandboxError` with code
    ``syntax``, ``forbidden`` or ``import`` and the user's line number.
    """
    filename = f"{USER_FILENAME_PREFIX}{name}>"
    _check_parameters(parameters)
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as error:
        raise _syntax_error(error) from None
    except ValueError as error:  # e.g. a NUL byte in the source
        raise SandboxError(str(error), code="syntax") from None

    loops = _loop_lines(tree)
    policy = AlgorithmPolicy(defined=_defined_names(tree) | set(parameters))
    tree = policy.visit(tree)
    if policy.problems:
        code, line, message = min(policy.problems, key=lambda p: p[1] or 0)
        raise SandboxError(message, code=code, line=line)

    for node in ast.walk(tree):  # RestrictedPython puts its print collector on line 0
        if getattr(node, "lineno", None) == 0:
            # Only nodes that have a position get here (the getattr above).
            node.lineno = node.end_lineno = 1  # type: ignore[attr-defined]
    entry = ast.FunctionDef(
        name=ENTRY_NAME,
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=parameter) for parameter in parameters],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=tree.body or [ast.Pass()],
        decorator_list=[],
        returns=None,
        lineno=1,
        col_offset=0,
    )
    module = ast.fix_missing_locations(ast.Module(body=[entry], type_ignores=[]))
    try:
        compiled = compile(module, filename, "exec", dont_inherit=True)
    except SyntaxError as error:  # what only the compiler sees: `break` outside a loop...
        raise _syntax_error(error) from None
    entry_code = next(c for c in compiled.co_consts if isinstance(c, CodeType))
    return CompiledAlgorithm(
        name=name, parameters=tuple(parameters), code=entry_code, filename=filename, loops=loops
    )


def _loop_lines(tree: ast.AST) -> dict[int, int]:
    """Each line inside a loop → the line of the innermost loop around it.

    A loop runs its header and its body lines in turn, so the line running when
    the time limit passes differs from one run to the next: the timeout names
    the loop instead, the same every time.
    """
    lines: dict[int, int] = {}

    def visit(node: ast.AST, loop: int | None) -> None:
        if isinstance(node, ast.While | ast.For | ast.AsyncFor):
            loop = node.lineno
        elif isinstance(node, ast.comprehension):
            loop = getattr(node.target, "lineno", loop)
        for child in ast.iter_child_nodes(node):
            if loop is not None:
                for line in range(getattr(child, "lineno", 0), getattr(child, "end_lineno", 0) + 1):
                    if line:
                        lines[line] = loop
            visit(child, loop)

    visit(tree, None)
    return lines


def _syntax_error(error: SyntaxError) -> SandboxError:
    return SandboxError(f"{type(error).__name__}: {error.msg}", code="syntax", line=error.lineno)


def _check_parameters(parameters: list[str]) -> None:
    seen = set()
    for parameter in parameters:
        if not isinstance(parameter, str) or not parameter.isidentifier():
            raise SandboxError(f"{parameter!r} is not a valid parameter name", code="syntax")
        if keyword.iskeyword(parameter) or parameter in seen:
            raise SandboxError(
                f"{parameter!r} is a keyword or repeated: not a valid parameter name",
                code="syntax",
            )
        if parameter.startswith("_") or parameter in RESERVED_NAMES:
            raise SandboxError(
                f"{parameter!r} cannot be a parameter name (reserved, or starts with '_')",
                code="forbidden",
            )
        seen.add(parameter)


def _defined_names(tree: ast.AST) -> set[str]:
    """Every name the user's code binds anywhere (a rough scope: enough to let
    code call its own variable ``input`` while refusing the builtin)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.partition(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _call(function: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(function, ast.Load()), args=args, keywords=[])
    return ast.copy_location(call, like)


def _checkpoint(like: ast.AST) -> ast.Expr:
    return ast.copy_location(ast.Expr(_call("_check_", [], like)), like)


def _names_exceptions(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Tuple):
        return all(_names_exceptions(element) for element in node.elts)
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


class AlgorithmPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy with this sandbox's rules (see the module docstring)."""

    def __init__(self, *, defined: set[str]) -> None:
        super().__init__()
        self.defined = defined
        self.problems: list[tuple[str, int | None, str]] = []

    def error(self, node: ast.AST, info: str) -> None:
        self.reject(node, "forbidden", info)

    def reject(self, node: ast.AST, code: str, message: str) -> None:
        self.problems.append((code, getattr(node, "lineno", None), message))

    # No iteration guards: iterating is not restricted here.
    def guard_iter(self, node):
        return self.node_contents_visit(node)

    def protect_unpack_sequence(self, target, value):
        return value

    def visit_arg(self, node: ast.arg):
        node.annotation = None  # see the module docstring: annotations can be code
        return super().visit_arg(node)

    def visit_FunctionDef(self, node: ast.FunctionDef):
        node.returns = None
        return super().visit_FunctionDef(node)

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in self.defined:
            if node.id in FORBIDDEN_NAMES:
                self.reject(node, "forbidden", f'"{node.id}" is not available in algorithms.')
            elif node.id in _UNAVAILABLE_EXCEPTIONS:
                self.reject(
                    node, "forbidden", f'"{node.id}" is not available in algorithms: use Exception.'
                )
        return super().visit_Name(node)

    def visit_Import(self, node: ast.Import):
        for alias in node.names:
            self._check_module(node, alias.name)
        return super().visit_Import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        if node.level:
            self.reject(node, "import", "Relative imports are not allowed.")
        else:
            self._check_module(node, node.module or "")
        return super().visit_ImportFrom(node)

    def _check_module(self, node: ast.AST, module: str) -> None:
        if module not in ALLOWED_MODULES:
            allowed = ", ".join(sorted(ALLOWED_MODULES))
            self.reject(
                node,
                "import",
                f'Import of the module "{module}" is not allowed; allowed modules: {allowed}.',
            )

    def visit_BinOp(self, node: ast.BinOp):
        node = self.node_contents_visit(node)
        guard = _SIZE_GUARDS.get(type(node.op))
        if guard is None:
            return node
        name, check = guard
        left, right = node.left, node.right
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            try:
                check(left.value, right.value)
            except Exception:  # noqa: S110 - too big or not numbers: the guard decides at run time
                pass
            else:
                return node
        return _call(name, [left, right], node)

    def visit_AugAssign(self, node: ast.AugAssign):
        target = node.target
        if isinstance(target, ast.Name) and type(node.op) not in _SIZE_GUARDS:
            return self.node_contents_visit(node)  # `n += 1`: a local name, nothing to guard
        if isinstance(target, ast.Name):
            return super().visit_AugAssign(node)  # `s *= n` through _inplacevar_
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice):
            self.error(node, "Augmented assignment of slices is not allowed.")
            return node
        if isinstance(target, ast.Attribute) and target.attr.startswith("_"):
            self.error(node, f'"{target.attr}" is an invalid attribute name: it starts with "_".')
            return node
        # `x[k] += v` → `t0 = x; t1 = k; _write_(t0)[t1] = _inplacevar_('+=', t0[t1], v)`
        holder = self.gen_tmp_name()
        statements: list[ast.stmt] = [
            ast.Assign(targets=[ast.Name(holder, ast.Store())], value=self.visit(target.value))
        ]
        current: ast.expr
        if isinstance(target, ast.Subscript):
            key = self.gen_tmp_name()
            statements.append(
                ast.Assign(targets=[ast.Name(key, ast.Store())], value=self.visit(target.slice))
            )
            item: list[ast.expr] = [ast.Name(holder, ast.Load()), ast.Name(key, ast.Load())]
            current = _call("_getitem_", item, node)
            store: ast.expr = ast.Subscript(
                value=_call("_write_", [ast.Name(holder, ast.Load())], node),
                slice=ast.Name(key, ast.Load()),
                ctx=ast.Store(),
            )
        else:
            current = _call(
                "_getattr_", [ast.Name(holder, ast.Load()), ast.Constant(target.attr)], node
            )
            store = ast.Attribute(
                value=_call("_write_", [ast.Name(holder, ast.Load())], node),
                attr=target.attr,
                ctx=ast.Store(),
            )
        operator = ast.Constant(_AUGMENTED[type(node.op)])
        value = _call("_inplacevar_", [operator, current, self.visit(node.value)], node)
        statements.append(ast.Assign(targets=[store], value=value))
        for statement in statements:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements

    def visit_Try(self, node: ast.Try):
        for handler in node.handlers:
            if handler.type is None:
                handler.type = ast.copy_location(ast.Name("Exception", ast.Load()), handler)
            elif not _names_exceptions(handler.type):
                self.reject(
                    handler,
                    "forbidden",
                    "An except clause may only name exception classes, "
                    "like ValueError or (KeyError, IndexError).",
                )
        node = self.node_contents_visit(node)
        for handler in node.handlers:
            handler.body.insert(0, _checkpoint(handler))
        if node.finalbody:
            node.finalbody.insert(0, _checkpoint(node.finalbody[0]))
        return node

    def visit_While(self, node: ast.While):
        node = self.node_contents_visit(node)
        if all(_does_nothing(statement) for statement in node.body):
            # `while True: pass` compiles to one jump onto itself: no line event to trace.
            idle = ast.Assign(
                targets=[ast.Name(self.gen_tmp_name(), ast.Store())], value=ast.Constant(None)
            )
            # On the body's line, not the loop's: the time limit then always names the
            # same line (the body), not the header one run and the body the next.
            located = ast.copy_location(idle, node.body[0])
            node.body.insert(0, ast.fix_missing_locations(located))
        return node


def _does_nothing(statement: ast.stmt) -> bool:
    return isinstance(statement, (ast.Pass, ast.Continue)) or (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    )


_AUGMENTED = {
    ast.Add: "+=",
    ast.Sub: "-=",
    ast.Mult: "*=",
    ast.Div: "/=",
    ast.FloorDiv: "//=",
    ast.Mod: "%=",
    ast.Pow: "**=",
    ast.LShift: "<<=",
    ast.RShift: ">>=",
    ast.BitOr: "|=",
    ast.BitXor: "^=",
    ast.BitAnd: "&=",
    ast.MatMult: "@=",
}
