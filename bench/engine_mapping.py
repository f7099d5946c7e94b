"""Benchmark (engine, part a): converter throughput of a declarative mapping.

A 10-field mapping — nested target and source paths, a JMESPath ``join``, one
Jinja2 expression, one constant — over 100,000 records of about 400 bytes,
against a hand-written plain-Python function doing the same, in the same run.
Also the same mapping with JMESPath only (the Jinja2 expression and the
constant written in JMESPath), through ``Mapping`` and through a naive loop of
``jmespath.compile(…).search`` per field.

    .venv/bin/python bench/engine_mapping.py            # 100,000 records
    .venv/bin/python bench/engine_mapping.py -n 20000

Prints records/s of each and the ratio of the mapping to plain Python (goal: >= 50%).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jmespath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coderunner.translation import compile_mapping  # noqa: E402
from coderunner.translation.functions import JMESPATH_OPTIONS  # noqa: E402

MAPPING = {
    "id": "id",
    "name": "join(' ', [first, last])",
    "customer.email": "contact.email",
    "customer.phone": "contact.phone",
    "address.line1": "address.street",
    "address.city": "address.city",
    "address.postal_code": "address.zip",
    "company": "company.name",
    "display_name": "{{ last | upper ~ ', ' ~ first }}",
    "source": '="CRM"',
}

JMESPATH_ONLY = {
    **MAPPING,
    "display_name": "join(', ', [upper(last), first])",
    "source": '`"CRM"`',
}


def plain(record: dict) -> dict:
    """What a careful engineer writes by hand for MAPPING."""
    contact = record.get("contact") or {}
    address = record.get("address") or {}
    company = record.get("company") or {}
    return {
        "id": record.get("id"),
        "name": f"{record.get('first')} {record.get('last')}",
        "customer": {"email": contact.get("email"), "phone": contact.get("phone")},
        "address": {
            "line1": address.get("street"),
            "city": address.get("city"),
            "postal_code": address.get("zip"),
        },
        "company": company.get("name"),
        "display_name": f"{str(record.get('last')).upper()}, {record.get('first')}",
        "source": "CRM",
    }


def naive_jmespath(mapping: dict[str, str]) -> Callable[[dict], dict]:
    """Every field through ``ParsedResult.search``, nested targets built per record."""
    fields = [(target.split("."), jmespath.compile(expr)) for target, expr in mapping.items()]

    def apply(record: dict) -> dict:
        out: dict = {}
        for path, expression in fields:
            node = out
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = expression.search(record, JMESPATH_OPTIONS)
        return out

    return apply


def make_records(count: int) -> list[dict]:
    rng = random.Random(42)
    cities = ["Lisbon", "Havana", "Montréal", "Nairobi", "Osaka", "Porto Alegre"]
    return [
        {
            "id": 100_000 + i,
            "first": rng.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara"]),
            "last": rng.choice(["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"]),
            "contact": {"email": f"user{i}@example.com", "phone": f"+1-555-{i % 10000:04d}"},
            "address": {
                "street": f"{rng.randint(1, 999)} Main Street",
                "city": rng.choice(cities),
                "zip": f"{rng.randint(10000, 99999)}",
                "country": "US",
            },
            "company": {"name": "Analytical Engines Ltd", "size": rng.randint(1, 5000)},
            "status": rng.choice(["active", "lead", "churned"]),
            "score": round(rng.random() * 100, 2),
            "tags": ["vip", "newsletter"][: rng.randint(0, 2)],
            "created_at": "2024-05-17T10:21:33Z",
            "notes": "Prefers e-mail; call after 10am.",
        }
        for i in range(count)
    ]


def throughput(convert: Callable[[dict], dict], records: list[dict], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for record in records:
            convert(record)
        best = min(best, time.perf_counter() - started)
    return len(records) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()

    records = make_records(args.records)
    size = sum(len(json.dumps(record)) for record in records) / len(records)
    mapping = compile_mapping(MAPPING)
    jmespath_only = compile_mapping(JMESPATH_ONLY)
    assert mapping.apply(records[0]) == plain(records[0]) == jmespath_only.apply(records[0])
    assert naive_jmespath(JMESPATH_ONLY)(records[0]) == plain(records[0])

    print(f"{len(records):,} records of ~{size:.0f} bytes, 10-field mapping, best of {args.repeat}")
    plain_rate = throughput(plain, records, args.repeat)
    rates = {
        "plain Python": plain_rate,
        "Mapping (mixed)": throughput(mapping.apply, records, args.repeat),
        "Mapping (JMESPath only)": throughput(jmespath_only.apply, records, args.repeat),
        "naive jmespath.search": throughput(naive_jmespath(JMESPATH_ONLY), records, args.repeat),
    }
    for name, rate in rates.items():
        print(f"  {name:<26}{rate:>12,.0f} records/s  {rate / plain_rate:6.1%} of plain")
    ratio = rates["Mapping (mixed)"] / plain_rate
    verdict = "met" if ratio >= 0.5 else "MISSED"
    print(f"ratio Mapping (mixed) / plain: {ratio:.1%} (goal >= 50%: {verdict})")


if __name__ == "__main__":
    main()
