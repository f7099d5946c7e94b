"""The payloads of the security review quoted in issue 8, and their close variants."""

from __future__ import annotations

from .base import code, jinja

TIME_LIMIT = r"failed: .*(Time limit of 1 s exceeded|CPU time limit exceeded)"
MEMORY = r"failed: .*Memory limit of \d+ MiB exceeded"
WRAPPER = r"failed: .*functools.update_wrapper and functools.wraps copy only the default attributes"
UPDATE_WRAPPER = """
    import functools, uuid
    def f():
        pass
    functools.update_wrapper(f, uuid.uuid4, assigned=(), updated=("__globals__",))
"""

PAYLOADS = [
    code(
        "review",
        "update-wrapper-popen",
        UPDATE_WRAPPER + '    return os.popen("id; hostname").read()',
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-secret-key",
        UPDATE_WRAPPER + '    return sys.modules["io"].open("DATA_DIR/secret_key").read()',
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-canary-file",
        UPDATE_WRAPPER + '    return sys.modules["io"].open("CANARY_PATH").read()',
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-environment",
        UPDATE_WRAPPER + "    return dict(os.environ)",
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-socket",
        UPDATE_WRAPPER
        + """
    socket = sys.modules["importlib"].import_module("socket")
    return str(socket.create_connection(("127.0.0.1", LISTENER_PORT), 2))""",
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-kill-worker",
        UPDATE_WRAPPER + "    os.kill(WORKER_PID, 9)\n    return os.kill(1, 9)",
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-sys-modules-secrets",
        UPDATE_WRAPPER
        + """
    models = sys.modules["apps.security.models"]
    return [a.password for a in models.Authorization.objects.all()]""",
        WRAPPER,
    ),
    code(
        "review",
        "wraps-globals",
        """
        import functools, uuid
        @functools.wraps(uuid.uuid4, assigned=(), updated=("__globals__",))
        def f():
            pass
        return os.getcwd()
        """,
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-assigns-code",
        """
        import functools, json
        def f(s):
            pass
        functools.update_wrapper(f, json.dumps, assigned=("__code__",), updated=())
        return f(1)
        """,
        WRAPPER,
    ),
    code(
        "review",
        "update-wrapper-of-a-host-function",
        "import functools, json\nfunctools.update_wrapper(json.dumps, lambda: 0)\nreturn 1",
        r"failed: .*change only the algorithm's own functions and objects",
    ),
    code(
        "review",
        "wraps-keywords-given-late",
        """
        import functools, uuid
        def f():
            pass
        functools.wraps(uuid.uuid4)(f, assigned=(), updated=("__globals__",))
        return os.getcwd()
        """,
        WRAPPER,
    ),
    code(
        "review",
        "import-sys-modules",
        'import sys\nreturn sys.modules["apps.security.models"].Authorization.objects.count()',
        r'refused: .*Import of the module \\"sys\\" is not allowed',
    ),
    code(
        "review",
        "open-secret-key",
        'return open("DATA_DIR/secret_key").read()',
        r'refused: .*\\"open\\" is not available',
    ),
    code(
        "review",
        "import-socket",
        'import socket\nreturn socket.create_connection(("127.0.0.1", LISTENER_PORT))',
        r'refused: .*Import of the module \\"socket\\" is not allowed',
    ),
    code(
        "review",
        "import-signal",
        "import os, signal\nos.kill(WORKER_PID, signal.SIGKILL)",
        r'refused: .*Import of the module \\"os\\" is not allowed',
    ),
    code("review", "type-of-int", "return type(int)", r"failed: .*type\(\) of a class"),
    code(
        "review",
        "type-of-int-makes-a-class",
        'T = type(int)\nreturn T("S", (str,), {"__str__": lambda s: "victim.Secret"})',
        r"failed: .*type\(\) of a class",
    ),
    code(
        "review",
        "str-subclass-two-faced-reference",
        """
        class Evil(str):
            def __str__(self):
                return "victim.Secret"
        return api.records(Evil("Item")).all()
        """,
        r'refused: .*\\"__str__\\" is an invalid variable name',
    ),
    code(
        "review",
        "str-subclass-reference-to-victim",
        """
        class Evil(str):
            def lower(self):
                return "item"
        return api.records(Evil("victim.Secret")).all()
        """,
        r"failed: .*algorithms reach only their own namespace \(evil\)",
    ),
    code(
        "review",
        "str-subclass-run-victim-algorithm",
        'class Evil(str):\n    pass\nreturn api.run(Evil("victim.steal"))',
        r"failed: .*algorithms reach only their own namespace",
    ),
    code(
        "review",
        "str-subclass-write-victim",
        'class Evil(str):\n    pass\nreturn api.records(Evil("victim.Secret")).save({"id": 2})',
        r"failed: .*algorithms reach only their own namespace",
    ),
    code(
        "review",
        "catastrophic-regex",
        'import re\nreturn bool(re.match("(a+)+$", "a" * 64 + "b"))',
        TIME_LIMIT,
    ),
    code(
        "review",
        "pbkdf2",
        'import hashlib\nreturn hashlib.pbkdf2_hmac("sha256", b"x", b"salt", 10**9).hex()',
        TIME_LIMIT,
    ),
    code(
        "review",
        "decimal-sqrt",
        "import decimal\nreturn str(decimal.Context(prec=2000000).sqrt(2))[:10]",
        rf"({TIME_LIMIT}|{MEMORY})",
    ),
    code(
        "review",
        "dict-items-while-encoding",
        """
        class Sneaky(dict):
            def items(self):
                api.records("Item").save({"id": 1, "name": "written while encoding"})
                return [("a", 1)]
        return Sneaky(a=1)
        """,
        r"failed: .*The result could not be made JSON: APIError: The api can only be used while "
        "the algorithm runs",
    ),
    code(
        "review",
        "dict-items-loops-while-encoding",
        """
        class Sneaky(dict):
            def items(self):
                while True:
                    pass
        return Sneaky(a=1)
        """,
        TIME_LIMIT,
    ),
    code(
        "review",
        "del-writes-late",
        """
        class Late:
            def __del__(self):
                api.records("Out").save({"id": "late"})
        return 1
        """,
        r'refused: .*\\"__del__\\" is an invalid variable name',
    ),
    code(
        "review",
        "generator-finally-writes-late",
        """
        def late():
            try:
                yield 1
            finally:
                api.records("Out").save({"id": "late"})
        kept = late()
        next(kept)
        return [kept]
        """,
        r"failed: .*not JSON",
    ),
    code(
        "review",
        "join-1-gb",
        'return len("".join(["x" * 10**7] * 100))',
        MEMORY,
    ),
    code(
        "review",
        "f-string-padding-1-gb",
        'x = 1\nreturn len(f"{x:>1000000000}")',
        MEMORY,
    ),
    code("review", "percent-padding-1-gb", 'return len("%1000000000d" % 1)', MEMORY),
    code(
        "review",
        "expandtabs-1-gb",
        'return len(("\\t" * 100000).expandtabs(10000))',
        MEMORY,
    ),
    code(
        "review",
        "replace-1-gb",
        'return len(("x" * 10**6).replace("x", "y" * 1000))',
        MEMORY,
    ),
    code("review", "busy-loop", "while True:\n    pass", TIME_LIMIT),
    *jinja(
        "review",
        "jinja-10-to-the-8-loops",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        TIME_LIMIT,
    ),
    # The review's lipsum(n=20000) took 23 s there and 2.3 s here: ten times as much.
    *jinja("review", "jinja-lipsum-200000", "{{ lipsum(n=200000) }}", TIME_LIMIT),
    *jinja(
        "review",
        "jinja-1-gb-string",
        '{% for i in range(1000) %}{{ "x" * 1000000 }}{% endfor %}',
        rf"({TIME_LIMIT}|{MEMORY})",
    ),
]
