"""Jinja2 server-side template injection and exhaustion, in every place Jinja runs."""

from __future__ import annotations

from .base import jinja
from .review import MEMORY, TIME_LIMIT

UNSAFE = r"failed: .*(access to attribute|unsafe|not safely callable|SecurityError)"
UNDEFINED = r"failed: .*(is undefined|has no value)"

PAYLOADS = [
    *jinja("ssti", "cycler-init-globals", "{{ cycler.__init__.__globals__ }}", UNSAFE),
    *jinja("ssti", "lipsum-globals", "{{ lipsum.__globals__ }}", UNSAFE),
    *jinja("ssti", "str-class-mro", "{{ ''.__class__.__mro__ }}", UNSAFE),
    *jinja("ssti", "subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}", UNSAFE),
    *jinja("ssti", "joiner-os", "{{ joiner.__init__.__globals__.os.popen('id').read() }}", UNSAFE),
    *jinja("ssti", "namespace-globals", "{{ namespace.__init__.__globals__ }}", UNSAFE),
    *jinja(
        "ssti",
        "self-context",
        "{{ self._TemplateReference__context }}",
        UNSAFE,
        kinds=("template", "mapping"),
    ),
    *jinja(
        "ssti",
        "self-context",
        "{{ self._TemplateReference__context }}",
        UNDEFINED,
        kinds=("webhook_body",),
    ),
    *jinja("ssti", "now-globals", "{{ now.__globals__ }}", UNSAFE, kinds=("template", "mapping")),
    *jinja("ssti", "attr-filter", "{{ ''|attr('__class__') }}", UNSAFE),
    *jinja("ssti", "attr-filter-escaped", "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", UNSAFE),
    *jinja("ssti", "str-format-attribute", "{{ '{0.__class__.__mro__}'.format(1) }}", UNSAFE),
    *jinja("ssti", "format-map", "{{ '{x.__class__}'.format_map({'x': 1}) }}", UNSAFE),
    *jinja("ssti", "format-filter", "{{ '%s'|format(cycler.__init__) }}", UNSAFE),
    *jinja("ssti", "dict-mro", "{{ dict.mro() }}", UNSAFE),
    *jinja("ssti", "method-self", "{{ [].pop.__self__ }}", UNSAFE),
    *jinja(
        "ssti",
        "flask-config",
        "{{ config.items() }}",
        UNDEFINED,
        kinds=("template", "webhook_body"),
    ),
    *jinja(
        "ssti",
        "include-file",
        '{% include "/etc/passwd" %}',
        r"failed: .*(no loader|TemplateNotFound|/etc/passwd)",
        kinds=("template",),
    ),
    *jinja(
        "ssti",
        "import-os",
        '{% import "os" as os %}{{ os }}',
        r"failed: .*(no loader|TemplateNotFound)",
        kinds=("template",),
    ),
    *jinja("ssti", "self-is-harmless", "{{ self }}", r"completed: ", kinds=("template",)),
    *jinja(
        "ssti",
        "range-huge",
        "{{ range(10**9)|list|length }}",
        r"failed: .*(range too big|MAX_RANGE|OverflowError)",
    ),
    *jinja(
        "exhaustion",
        "repeat-huge",
        "{{ 'x' * 10**9 }}",
        rf"(failed: .*repeating a sequence to more than|{MEMORY})",
    ),
    *jinja(
        "exhaustion",
        "power-huge",
        "{{ 2 ** 10000000 }}",
        r"failed: .*exponent \d+ is larger than",
        kinds=("template", "mapping"),
    ),
    # Webhook texts are not translation templates: Jinja folds the constant on save.
    *jinja(
        "exhaustion",
        "power-huge",
        "{{ 2 ** 10000000 }}",
        r"refused: .*Exceeds the limit \(4300 digits\)",
        kinds=("webhook_body",),
    ),
    *jinja("exhaustion", "center-1-gb", "{{ 'x'|center(1000000000) }}", MEMORY),
    *jinja("exhaustion", "percent-1-gb", "{{ '%1000000000d' % 1 }}", MEMORY),
    *jinja("exhaustion", "replace-1-gb", "{{ ('x' * 1000000)|replace('x', 'y' * 1000) }}", MEMORY),
    *jinja(
        "exhaustion",
        "tojson-indent",
        "{{ [1]|tojson(indent=1000000000) }}",
        MEMORY,
        kinds=("template", "mapping"),
    ),
    *jinja(
        "exhaustion",
        "macro-recursion",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        r"failed: .*(recurs|Recursion)",
    ),
    *jinja(
        "exhaustion",
        "busy-loops",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        TIME_LIMIT,
        kinds=("template",),
    ),
]
