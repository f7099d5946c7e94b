"""Reaching os, sys, subprocess… through the allowed modules, and other namespaces through api."""

from __future__ import annotations

from .base import code
from .python import ATTRIBUTE, UNDERSCORE

MODULE = r"failed: .*The module '[\w.]+' is not available"
REACH = r"failed: .*algorithms reach only their own namespace \(evil\)"


def imports(family: str, *modules: str):
    return [
        code(
            family,
            f"import-{module}",
            f"import {module}\nreturn 1",
            rf'refused: .*Import of the module \\"{module}\\" is not allowed',
        )
        for module in modules
    ]


MODULES = [
    *imports(
        "modules",
        "os",
        "subprocess",
        "sys",
        "importlib",
        "ctypes",
        "builtins",
        "threading",
        "io",
        "pathlib",
        "typing",
    ),
    code(
        "modules",
        "from-os-import-system",
        "from os import system\nreturn system('id')",
        r'refused: .*Import of the module \\"os\\"',
    ),
    code("modules", "uuid-os", "import uuid\nreturn uuid.os.environ", MODULE),
    code("modules", "from-uuid-import-os", "from uuid import os\nreturn os.environ", MODULE),
    code("modules", "random-os", 'import random\nreturn getattr(random, "_os")', ATTRIBUTE),
    code("modules", "json-decoder-module", "import json\nreturn json.decoder", MODULE),
    code(
        "modules",
        "import-json-decoder",
        "import json.decoder\nreturn 1",
        r'refused: .*Import of the module \\"json.decoder\\"',
    ),
    code("modules", "re-enum-module", "import re\nreturn re.enum", MODULE),
    code("modules", "datetime-sys", "import datetime\nreturn datetime.sys", MODULE),
    code("modules", "re-copyreg", "import re\nreturn re.copyreg.dispatch_table", MODULE),
    code(
        "modules",
        "collections-sys",
        'import collections\nreturn getattr(collections, "_sys")',
        ATTRIBUTE,
    ),
    code("modules", "string-re", 'import string\nreturn getattr(string, "_re")', ATTRIBUTE),
    code(
        "modules",
        "hashlib-openssl",
        'import hashlib\nreturn getattr(hashlib, "_hashlib")',
        ATTRIBUTE,
    ),
    code(
        "modules", "decimal-spec", 'import decimal\nreturn getattr(decimal, "__spec__")', ATTRIBUTE
    ),
    code(
        "modules",
        "json-codecs",
        "import json\nreturn json.codecs.open('CANARY_PATH').read()",
        MODULE,
    ),
    code("modules", "base64-binascii", "import base64\nreturn base64.binascii", MODULE),
    code("modules", "statistics-math", "import statistics\nreturn statistics.random", MODULE),
    code(
        "modules",
        "hmac-hashlib-private",
        'import hmac\nreturn getattr(hmac, "_hashlib")',
        ATTRIBUTE,
    ),
    code(
        "modules",
        "uuid1-mac-address",
        "import uuid\nreturn str(uuid.uuid1())",
        r"failed: .*uuid\.uuid1 is not available",
    ),
    code(
        "modules",
        "uuid-getnode",
        "import uuid\nreturn uuid.getnode()",
        r"failed: .*uuid\.getnode is not available",
    ),
    code(
        "modules",
        "function-globals",
        "import uuid\nreturn uuid.uuid4.__globals__['os']",
        UNDERSCORE,
    ),
    code(
        "modules",
        "getattr-function-globals",
        'import uuid\nreturn getattr(uuid.uuid4, "__globals__")',
        ATTRIBUTE,
    ),
    code(
        "modules",
        "decimal-default-context",
        "import decimal\ndecimal.DefaultContext.prec = 1\nreturn 1",
        r"failed: .*decimal\.DefaultContext is not available",
    ),
    code(
        "modules",
        "singledispatch-annotation-eval",
        """
        import functools
        @functools.singledispatch
        def f(x):
            return 1
        def g(x: "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "
                  "'_wrap_close'][0].__init__.__globals__['popen']('id').read()"):
            return 2
        f.register(g)
        return "registered"
        """,
        r"failed: .*Invalid first argument to `register\(\)`",
    ),
    code(
        "modules",
        "singledispatch-computed-annotation",
        """
        import functools
        @functools.singledispatch
        def f(x):
            return 1
        hint = "().__class__.__base__.__subclasses__()"
        def g(x: hint):
            return 2
        f.register(g)
        return "registered"
        """,
        r"failed: .*Invalid first argument to `register\(\)`",
    ),
]

API = [
    code(
        "api",
        "read-victim-records",
        'return api.records("victim.Secret").all()',
        REACH,
    ),
    code(
        "api",
        "get-victim-record",
        'return api.records("victim.Secret").get(1)',
        REACH,
    ),
    code(
        "api",
        "find-victim-records",
        'return api.records("victim.Secret").find(id=1)',
        REACH,
    ),
    code(
        "api",
        "count-victim-records",
        'return api.records("victim.Secret").count()',
        REACH,
    ),
    code(
        "api",
        "write-victim-record",
        'return api.records("victim.Secret").save({"id": 2, "name": "x"})',
        REACH,
    ),
    code(
        "api",
        "delete-victim-record",
        'return api.records("victim.Secret").delete(1)',
        REACH,
    ),
    code(
        "api",
        "run-victim-algorithm",
        'return api.run("victim.steal")',
        REACH,
    ),
    code(
        "api",
        "fetch-victim-webhook",
        'return api.fetch("victim.hook")',
        REACH,
    ),
    code(
        "api",
        "submit-victim-webhook",
        'return api.submit("victim.hook", body={"x": 1})',
        REACH,
    ),
    code(
        "api",
        "reference-with-spaces",
        'return api.records(" victim.Secret").all()',
        REACH,
    ),
    code(
        "api",
        "reference-upper-case",
        'return api.records("VICTIM.Secret").all()',
        REACH,
    ),
    code(
        "api",
        "reference-nul-byte",
        'return api.records("evil\\x00.victim.Secret").all()',
        REACH,
    ),
    code(
        "api",
        "reference-own-then-victim",
        'return api.records("evil.victim.Secret").all()',
        r"failed: .*No data type evil\.victim\.Secret",
    ),
    code(
        "api",
        "reference-as-object",
        'return api.records({"namespace": "victim", "name": "Secret"}).all()',
        r"failed: .*A data type is a name like 'Contact'",
    ),
    code(
        "api",
        "unknown-own-reference",
        'return api.records("Secret").all()',
        r"failed: .*No data type evil\.Secret",
    ),
    code(
        "api",
        "find-field-lookup",
        'return api.records("Item").find(**{"name__regex": ".*"})',
        r"failed: .*'name__regex' is not a field name",
    ),
    code(
        "api",
        "find-bad-field",
        'return api.records("Item").find(**{"a b": 1})',
        r"failed: .*is not a field name",
    ),
    code(
        "api",
        "read-limit",
        'return len(api.records("Item").all(limit=10**9))',
        r"failed: .*more than the \d+ records one call may read",
    ),
]

PICKLING = [
    *imports("pickling", "pickle", "copyreg", "copy", "marshal", "shelve"),
    code(
        "pickling",
        "reduce-method",
        "class A:\n    def __reduce__(self):\n        return (print, ('x',))\nreturn A()",
        UNDERSCORE,
    ),
    code("pickling", "getattr-reduce-ex", 'return getattr({}, "__reduce_ex__")(2)', ATTRIBUTE),
    code(
        "pickling",
        "json-object-hook",
        "import json\nreturn json.loads('{\"a\": 1}', object_hook=lambda d: sorted(d))",
        r'completed: \["a"\]',
    ),
]

PAYLOADS = [*MODULES, *PICKLING, *API]
