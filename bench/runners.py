"""Benchmark: user code in isolated runner processes against the old in-process path.

In one run, on the same 100,000 records of about 400 bytes:

1. a python translator (an algorithm called with ``record``), lot by lot through
   the platform's own path (``translate_records``: one runner job per 500
   records) — against the in-process sandbox doing the same (what the engine
   did before runners: the RestrictedPython code run in the platform process)
   and against a plain Python function (the yardstick). Goal: runners >= 50 %
   of the in-process rate;
2. an export template (Jinja2, JSON body) the same three ways;
3. the latency of one small algorithm call on a warm runner (``run_algorithm``),
   p50 and p99. Goal: p50 under 5 ms.

Also the peak memory (RSS) of this process and of a runner. No database is
touched: the elements are unsaved model instances.

    .venv/bin/python bench/runners.py             # 100,000 records
    .venv/bin/python bench/runners.py -n 20000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from apps.data.models import Namespace  # noqa: E402
from apps.runners.services import isolation, pool  # noqa: E402
from apps.workflows.engine.algorithms import run_algorithm  # noqa: E402
from apps.workflows.engine.translators import render_bodies, translate_records  # noqa: E402
from apps.workflows.models import Algorithm, Translator  # noqa: E402
from coderunner.sandbox import compile_algorithm  # noqa: E402
from coderunner.translation import compile_template  # noqa: E402

CODE = """\
full = f"{record['first']} {record['last']}".strip()
total = 0
for item in record["items"]:
    total += item["qty"] * item["price"]
return {
    "id": record["id"],
    "name": full.title(),
    "email": (record.get("email") or "").lower(),
    "city": record["address"]["city"],
    "total": round(total, 2),
}
"""

TEMPLATE = """{
  "id": {{ id }},
  "name": {{ (first ~ " " ~ last) | tojson }},
  "email": {{ email | lower | tojson }},
  "city": {{ address.city | tojson }},
  "items": [{% for item in items %}{"sku": {{ item.sku | tojson }}, "qty": {{ item.qty }}}
            {{- "," if not loop.last }}{% endfor %}]
}"""


def plain_translate(record: dict) -> dict:
    full = f"{record['first']} {record['last']}".strip()
    total = 0
    for item in record["items"]:
        total += item["qty"] * item["price"]
    return {
        "id": record["id"],
        "name": full.title(),
        "email": (record.get("email") or "").lower(),
        "city": record["address"]["city"],
        "total": round(total, 2),
    }


def plain_render(record: dict) -> str:
    return json.dumps(
        {
            "id": record["id"],
            "name": f"{record['first']} {record['last']}",
            "email": record["email"].lower(),
            "city": record["address"]["city"],
            "items": [{"sku": i["sku"], "qty": i["qty"]} for i in record["items"]],
        }
    )


def make_records(count: int) -> list[dict]:
    rng = random.Random(7)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
    return [
        {
            "id": n,
            "first": rng.choice(words).title(),
            "last": rng.choice(words).title(),
            "email": f"{rng.choice(words)}.{n}@Example.COM",
            "address": {"street": f"{n} Main St", "city": rng.choice(words), "zip": "12345"},
            "items": [
                {
                    "sku": f"SKU-{rng.randint(1, 999)}",
                    "qty": rng.randint(1, 5),
                    "price": round(rng.uniform(1, 100), 2),
                }
                for _ in range(3)
            ],
        }
        for n in range(count)
    ]


def rate(function, records: list, lot: int = 500) -> tuple[float, list]:
    started = time.perf_counter()
    out: list = []
    for start in range(0, len(records), lot):
        out.extend(function(records[start : start + lot]))
    return len(records) / (time.perf_counter() - started), out


def runner_rss_kib() -> int:
    """The largest resident size among this process's runner children (bwrap's inner python)."""
    best = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"coderunner.server" in cmdline and b"bwrap" not in cmdline.split(b"\0")[0]:
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    records = make_records(args.records)
    found = isolation()
    print(f"isolation: {found.mode}{' (complete)' if found.complete else ''}; "
          f"records: {len(records):,}, ~{len(json.dumps(records[0]))} bytes each; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")  # fmt: skip

    namespace = Namespace(id=1, name="bench")
    algorithm = Algorithm(
        id=1, namespace=namespace, name="to_customer", code=CODE,
        parameters=[{"name": "record", "type": "object"}], time_limit=300,
    )  # fmt: skip
    python_translator = Translator(
        id=1, namespace=namespace, name="t", type="conversion", style="python", algorithm=algorithm
    )
    template_translator = Translator(
        id=2, namespace=namespace, name="e", type="export", style="template",
        template=TEMPLATE, mime_type="application/json",
    )  # fmt: skip
    pool().prestart()
    translate_records(python_translator, records[:10])  # warm: a runner of the namespace
    render_bodies(template_translator, records[:10])

    compiled = compile_algorithm(CODE, name="bench.to_customer", parameters=["record"])
    template = compile_template(TEMPLATE, mime_type="application/json")
    print("\n1. python translator                 records/s   vs in-process   vs plain")
    plain_rate, expected = rate(lambda lot: [plain_translate(r) for r in lot], records)
    inproc_rate, got_inproc = rate(
        lambda lot: [compiled.run(arguments={"record": r}, time_limit=300) for r in lot], records
    )
    runner_rate, got_runner = rate(lambda lot: translate_records(python_translator, lot), records)
    assert got_inproc == expected and got_runner == expected, "the three ways disagree"
    for name, value in [("plain Python", plain_rate), ("in-process sandbox", inproc_rate),
                        ("isolated runner", runner_rate)]:  # fmt: skip
        print(f"   {name:<32} {value:>10,.0f}   {value / inproc_rate:>12.0%}  "
              f"{value / plain_rate:>8.0%}")  # fmt: skip

    print("\n2. export template (JSON)            records/s   vs in-process   vs plain")
    plain_rate, expected_bodies = rate(lambda lot: [plain_render(r) for r in lot], records)
    inproc_rate, bodies_inproc = rate(lambda lot: [template.render(r) for r in lot], records)
    runner_rate, bodies_runner = rate(lambda lot: render_bodies(template_translator, lot), records)
    assert bodies_runner == bodies_inproc, "runner and in-process bodies disagree"
    assert [json.loads(b) for b in bodies_runner[:100]] == [
        json.loads(b) for b in expected_bodies[:100]
    ]
    for name, value in [("plain Python (json.dumps)", plain_rate),
                        ("in-process Jinja2 sandbox", inproc_rate),
                        ("isolated runner", runner_rate)]:  # fmt: skip
        print(f"   {name:<32} {value:>10,.0f}   {value / inproc_rate:>12.0%}  "
              f"{value / plain_rate:>8.0%}")  # fmt: skip

    adder = Algorithm(
        id=2, namespace=namespace, name="add", code="return a + b",
        parameters=[{"name": "a"}, {"name": "b"}], time_limit=10,
    )  # fmt: skip
    small = compile_algorithm("return a + b", name="bench.add", parameters=["a", "b"])
    for _ in range(50):
        run_algorithm(adder, {"a": 1, "b": 2})
    latencies, inproc = [], []
    for i in range(args.calls):
        started = time.perf_counter()
        assert run_algorithm(adder, {"a": i, "b": 2}) == i + 2
        latencies.append(time.perf_counter() - started)
        started = time.perf_counter()
        small.run(arguments={"a": i, "b": 2})
        inproc.append(time.perf_counter() - started)
    q = statistics.quantiles(latencies, n=100)
    qi = statistics.quantiles(inproc, n=100)
    print(f"\n3. one small algorithm call ({args.calls} calls, warm runner)")
    print(f"   isolated runner      p50 {q[49] * 1000:6.2f} ms   p99 {q[98] * 1000:6.2f} ms")
    print(f"   in-process sandbox   p50 {qi[49] * 1000:6.2f} ms   p99 {qi[98] * 1000:6.2f} ms")

    platform_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\npeak RSS: this process {platform_peak / 1024:.0f} MiB "
          f"(the 100,000 records and their results are held here), "
          f"a runner {runner_rss_kib() / 1024:.0f} MiB")  # fmt: skip
    print(f"runners started: {pool().stats['started']}, jobs: {pool().stats['jobs']}")
    pool().close()


if __name__ == "__main__":
    main()
