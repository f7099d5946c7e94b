"""Resource exhaustion: memory, CPU, recursion, huge numbers, deep nesting, output, calls."""

from __future__ import annotations

from .base import code
from .review import MEMORY, TIME_LIMIT

LIMIT = r"failed: .*exceeds the limit of"
MEMORY_OR_TIME = rf"({MEMORY}|{TIME_LIMIT})"
CEILING = r"failed: .*it ran for more than 3 s, counting the platform's answers to its api calls"

PAYLOADS = [
    code("exhaustion", "append-forever", 'x = []\nwhile True:\n    x.append("x" * 10**6)', MEMORY),
    code("exhaustion", "list-of-range", "return len(list(range(10**10)))", MEMORY),
    code("exhaustion", "dict-fromkeys", "return len(dict.fromkeys(range(10**9)))", MEMORY),
    code("exhaustion", "set-of-range", "return len(set(range(10**9)))", MEMORY),
    code(
        "exhaustion",
        "itertools-repeat",
        "import itertools\nreturn len(list(itertools.repeat(0)))",
        MEMORY,
    ),
    code("exhaustion", "bytes-of-size", "return len(bytes(10**10))", LIMIT),
    code("exhaustion", "repeat-list", "return len([0] * 10**9)", LIMIT),
    code("exhaustion", "repeat-str", 'return len("x" * 10**10)', LIMIT),
    code("exhaustion", "repeat-augmented", 's = "x"\ns *= 10**10\nreturn len(s)', LIMIT),
    code(
        "exhaustion",
        "ljust",
        'return len("x".ljust(10**10))',
        r"failed: .*Padding to \d+ characters exceeds the limit",
    ),
    code("exhaustion", "sum-of-range", "return sum(range(10**12))", LIMIT),
    code(
        "exhaustion",
        "sum-of-repeat",
        "import itertools\nreturn sum(itertools.repeat(1, 10**12))",
        TIME_LIMIT,
    ),
    code("exhaustion", "sorted-range", "return sorted(range(10**9))[0]", LIMIT),
    code(
        "exhaustion",
        "recursion",
        "def f(n):\n    return f(n + 1)\nreturn f(0)",
        r"failed: .*(RecursionError|recursed too deeply)",
    ),
    code(
        "exhaustion",
        "recursion-caught-and-retried",
        """
        def f(n):
            try:
                return f(n + 1)
            except RecursionError:
                return f(n + 1) + f(n + 1)
        return f(0)
        """,
        TIME_LIMIT,
    ),
    code("exhaustion", "huge-power", "return 10 ** 10**8", r"failed: .*would have more than"),
    code(
        "exhaustion", "huge-pow-builtin", "return pow(3, 10**9)", r"failed: .*would have more than"
    ),
    code(
        "exhaustion",
        "huge-shift",
        "return 1 << 10**10",
        r"failed: .*Shifting by \d+ bits exceeds the limit",
    ),
    code("exhaustion", "doubling-int", "x = 3\nwhile True:\n    x = x * x", MEMORY_OR_TIME),
    code(
        "exhaustion", "factorial", "import math\nreturn math.factorial(10**8) % 7", MEMORY_OR_TIME
    ),
    code(
        "exhaustion",
        "int-to-huge-str",
        "return str(10 ** 100000)",
        r"failed: .*ValueError: Exceeds the limit \(4300 digits\)",
    ),
    code(
        "exhaustion",
        "decimal-huge-precision-division",
        """
        import decimal
        with decimal.localcontext(decimal.Context(prec=10**9)):
            return str(decimal.Decimal(1) / 3)[:5]
        """,
        MEMORY_OR_TIME,
    ),
    code(
        "exhaustion",
        "decimal-context-is-read-only",
        "import decimal\ndecimal.getcontext().prec = 10**9\nreturn 1",
        r"failed: .*Context objects cannot be changed",
    ),
    code(
        "exhaustion",
        "scrypt-1-gb",
        """
        import hashlib
        return hashlib.scrypt(b"x", salt=b"y", n=2**20, r=8, p=1, maxmem=2**31 - 1).hex()
        """,
        rf"({MEMORY}|failed: .*ValueError)",
    ),
    code(
        "exhaustion",
        "deep-list-result",
        "x = []\nfor i in range(100000):\n    x = [x]\nreturn x",
        r"failed: .*nested too deeply",
    ),
    code(
        "exhaustion",
        "deep-dict-result",
        "x = {}\nfor i in range(100000):\n    x = {'a': x}\nreturn x",
        r"failed: .*nested too deeply",
    ),
    code(
        "exhaustion",
        "deep-api-argument",
        """
        x = []
        for i in range(100000):
            x = [x]
        return api.records("Out").save({"id": 1, "x": x})
        """,
        r"failed: .*nested too deeply",
    ),
    code(
        "exhaustion",
        "deep-json-parse",
        'import json\nreturn json.loads("[" * 10**6 + "]" * 10**6)',
        r"failed: .*RecursionError",
    ),
    code(
        "exhaustion",
        "deep-regex",
        'import re\nreturn bool(re.compile("(" * 10**5 + ")" * 10**5))',
        r"failed: .*(RecursionError|too many groups|Memory)",
    ),
    code(
        "exhaustion",
        "big-result",
        'return ["x" * 10**6] * 40',
        r"failed: .*more than the limit of 16 MiB",
    ),
    code("exhaustion", "print-flood", 'while True:\n    print("x" * 10**5)', TIME_LIMIT),
    code(
        "exhaustion",
        "infinite-generator-result",
        "def g():\n    while True:\n        yield 1\nreturn g()",
        rf"({TIME_LIMIT}|failed: .*more than \d+ items)",
    ),
    code(
        "exhaustion",
        "save-too-many",
        'return api.records("Out").save([{"id": i} for i in range(10**5)])',
        r"failed: .*records is more than the \d+ one call may write",
    ),
    # The platform's answers do not count against the time limit: the worker's
    # RUNNER_TIME_LIMIT_MAX (3 s, escape_harness.worker_env) bounds the whole run.
    code(
        "exhaustion",
        "call-the-platform-forever",
        'while True:\n    api.records("Item").count()',
        CEILING,
        time_limit=3,
        seconds=8,
    ),
    code(
        "exhaustion",
        "notify-forever",
        'while True:\n    api.notify("x" * 10**5)',
        CEILING,
        time_limit=3,
        seconds=8,
    ),
    code(
        "exhaustion",
        "notify-huge-attachment",
        'while True:\n    api.notify("x", attachment="x" * 10**6)',
        r"failed: .*notify\(\): the attachment is \d+ bytes of JSON, more than",
    ),
    code(
        "exhaustion", "runs-itself", "return api.run('SELF_NAME')", r"failed: .*more than 10 deep"
    ),
]
