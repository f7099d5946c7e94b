"""The classic families against the algorithm sandbox: attributes, frames, types, builtins."""

from __future__ import annotations

from .base import code

UNDERSCORE = r'refused: .*\\"_+\w+\\" is an invalid (attribute|variable) name'
RESTRICTED = r"refused: .*is a restricted name"
ATTRIBUTE = r"failed: .*Access to the attribute '\w+' is not allowed"
NOT_AVAILABLE = (
    r'refused: .*(\\"{name}\\" is not available in algorithms|{title} calls are not allowed)'
)


def forbidden_names(*names: str):
    return [
        code(
            "introspection",
            f"builtin-{name}",
            f"return {name}()",
            NOT_AVAILABLE.format(name=name, title=name.title()),
        )
        for name in names
    ]


FORMAT = [
    code(
        "format",
        "str-format-class",
        'return "{0.__class__}".format(1)',
        r"failed: .*str\.format\(\) is not allowed",
    ),
    code(
        "format",
        "str-format-globals",
        'return "{0.__globals__}".format(api.notify)',
        r"failed: .*str\.format\(\) is not allowed",
    ),
    code(
        "format",
        "str-format-map",
        'return "{x.__class__}".format_map({"x": 1})',
        r"failed: .*str\.format_map\(\) is not allowed",
    ),
    code(
        "format",
        "unbound-str-format",
        'return str.format("{0.__class__.__mro__}", 1)',
        r"failed: .*str\.format\(\) is not allowed",
    ),
    code(
        "format",
        "getattr-str-format",
        'return getattr("{0.__class__}", "format")(1)',
        r"failed: .*str\.format\(\) is not allowed",
    ),
    code(
        "format",
        "str-subclass-format",
        'class S(str):\n    pass\nreturn S("{0.__class__}").format(1)',
        r"failed: .*str\.format\(\) is not allowed",
    ),
    code(
        "format",
        "type-of-str-format",
        'return type("").format("{0.__class__}", 1)',
        r"failed: .*str\.format\(\) is not allowed",
    ),
    code(
        "format",
        "string-formatter",
        'import string\nreturn string.Formatter().format("{0.__class__}", 1)',
        r"failed: .*string\.Formatter is not available",
    ),
    code(
        "format",
        "from-string-import-formatter",
        "from string import Formatter\nreturn Formatter().format('{0.__globals__}', api.notify)",
        r"failed: .*string\.Formatter is not available",
    ),
    code("format", "f-string-dunder", 'return f"{api.__class__}"', UNDERSCORE),
    code("format", "percent-format-api", 'return "%s" % (api,)', r"completed: .*API object"),
    code("format", "format-builtin-spec", "return format(api, '')", r"completed: .*API object"),
    code(
        "format",
        "string-template",
        'import string\nreturn string.Template("$x.__class__").substitute(x="a")',
        r"completed: .*a\.__class__",
    ),
    code(
        "format",
        "strftime-directives",
        'import datetime\nreturn datetime.date(2024, 1, 1).strftime("%Y %%(x)s {0.__class__}")',
        r"completed: .*2024 %\(x\)s \{0\.__class__\}",
    ),
]

FRAMES = [
    code(
        "frames",
        "generator-gi-frame",
        "def g():\n    yield 1\nreturn g().gi_frame.f_back.f_globals",
        RESTRICTED,
    ),
    code(
        "frames",
        "getattr-gi-frame",
        'def g():\n    yield 1\nreturn getattr(g(), "gi_frame")',
        ATTRIBUTE,
    ),
    code(
        "frames",
        "getattr-gi-code",
        'def g():\n    yield 1\nreturn getattr(g(), "gi_code")',
        ATTRIBUTE,
    ),
    code(
        "frames",
        "generator-expression-frame",
        "return getattr((x for x in [1]), 'gi_frame')",
        ATTRIBUTE,
    ),
    code(
        "frames",
        "traceback-frame",
        "try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame.f_globals",
        RESTRICTED,
    ),
    code(
        "frames",
        "getattr-traceback",
        'try:\n    1 / 0\nexcept Exception as e:\n    return getattr(e, "__traceback__")',
        ATTRIBUTE,
    ),
    code(
        "frames",
        "getattr-tb-frame",
        'try:\n    1 / 0\nexcept Exception as e:\n    return getattr(e, "tb_frame")',
        ATTRIBUTE,
    ),
    code(
        "frames",
        "coroutine-frame",
        "async def c():\n    pass\nreturn getattr(c(), 'cr_frame')",
        r"(refused: .*AsyncFunctionDef|failed: .*Access to the attribute 'cr_frame')",
    ),
    code(
        "frames",
        "exception-context",
        "try:\n    1 / 0\nexcept Exception as e:\n    return getattr(e, '__context__')",
        ATTRIBUTE,
    ),
    code(
        "frames",
        "generator-throw",
        """
        def g():
            yield 1
        x = g()
        next(x)
        try:
            x.throw(ValueError("thrown"))
        except ValueError as e:
            return str(e)
        """,
        r"completed: .*thrown",
    ),
]

TYPES = [
    code("types", "type-of-type-of-1", "return type(type(1))", r"failed: .*type\(\) of a class"),
    code(
        "types",
        "type-of-api",
        "return type(api)('x')",
        r"failed: .*type\(\) of a API object is not available",
    ),
    code(
        "types",
        "type-of-api-task",
        "return type(api.task)",
        r"failed: .*type\(\) of a Task object is not available",
    ),
    code(
        "types",
        "type-three-arguments",
        'return type("S", (str,), {})',
        r"failed: .*type\(\) with three arguments",
    ),
    code(
        "types",
        "metaclass-keyword",
        "def m(*a):\n    return 1\nclass A(metaclass=m):\n    pass\nreturn A",
        r'refused: .*The keyword argument \\"metaclass\\" is not allowed',
    ),
    code("types", "subclass-of-type", "class M(type):\n    pass\nreturn M", r"failed: .*TypeError"),
    code("types", "object-subclasses", "return object.__subclasses__()", UNDERSCORE),
    code("types", "getattr-subclasses", 'return getattr(object, "__subclasses__")()', ATTRIBUTE),
    code(
        "types",
        "mro",
        "return int.mro()",
        r"failed: .*Access to the attribute 'mro' is not allowed",
    ),
    code(
        "types",
        "class-mro-of-user-class",
        "class A:\n    pass\nreturn getattr(A, 'mro')()",
        r"failed: .*Access to the attribute 'mro'",
    ),
    code(
        "types", "function-type", "F = type(lambda: 0)\nreturn F(None, {})", r"failed: .*TypeError"
    ),
    code(
        "types",
        "str-subclass-eq-lies",
        """
        class S(str):
            def __eq__(self, other):
                return True
        return api.records(S("victim.Secret")).all()
        """,
        r"failed: .*algorithms reach only their own namespace",
    ),
    code(
        "types",
        "getattr-str-subclass-name",
        'class S(str):\n    pass\nreturn getattr(1, S("__class__"))',
        r"failed: .*attribute name must be a string",
    ),
    code("types", "records-class", 'return api.records("Item").__class__', UNDERSCORE),
    code(
        "types",
        "type-of-records",
        'return type(api.records("Item"))',
        r"failed: .*type\(\) of a Records object",
    ),
    code(
        "types",
        "super-dunder",
        "class A:\n    pass\nreturn getattr(super(A, A()), '__init_subclass__')",
        ATTRIBUTE,
    ),
    code(
        "types",
        "type-of-re-pattern",
        'import re\nreturn type(re.compile("x"))("y")',
        r"failed: .*TypeError: cannot create 're.Pattern' instances",
    ),
    code(
        "types",
        "setattr-foreign-object",
        'import json\nsetattr(json.JSONDecoder(), "parse_object", 1)\nreturn 1',
        r"failed: .*JSONDecoder objects cannot be changed",
    ),
    code(
        "types",
        "write-api-attribute",
        "api.task.state = {'x': 1}\napi.records = 1\nreturn 1",
        r"failed: .*objects cannot be changed",
    ),
]

INTROSPECTION = [
    *forbidden_names(
        "vars",
        "globals",
        "locals",
        "dir",
        "eval",
        "exec",
        "compile",
        "open",
        "breakpoint",
        "help",
        "input",
    ),
    code("introspection", "builtins-name", "return __builtins__", UNDERSCORE),
    code("introspection", "dunder-import", '__import__("os").system("id")', UNDERSCORE),
    code(
        "introspection",
        "global-open",
        'def f():\n    global open\n    return open("CANARY_PATH").read()\nreturn f()',
        r"failed: .*NameError: name 'open' is not defined",
    ),
    code(
        "introspection",
        "global-eval",
        'def f():\n    global eval\n    return eval("1 + 1")\nreturn f()',
        r"refused: .*Eval calls are not allowed",
    ),
    code("introspection", "api-dict", "return api.__dict__", UNDERSCORE),
    code("introspection", "getattr-api-channel", 'return getattr(api, "_channel")', ATTRIBUTE),
    code("introspection", "hasattr-private", 'return hasattr(api, "_run")', ATTRIBUTE),
]

PAYLOADS = [*FORMAT, *FRAMES, *TYPES, *INTROSPECTION]
