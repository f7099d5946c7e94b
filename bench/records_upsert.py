"""Benchmark: validate + upsert 100,000 records through the records service.

Compares, in the same run and on the same database, the records service
(apps.data.services.records_save) with a plain-Python baseline: jsonschema-rs
(the fastest correct validator measured here) and one ``executemany`` of
``INSERT … ON CONFLICT DO UPDATE`` on the bare DB-API driver.

    .venv/bin/python bench/records_upsert.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/records_upsert.py --backends sqlite -n 20000

PostgreSQL is reached at BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/ipaas_bench; the database is created if missing).
Prints records/s for both, the ratio, and the service's peak traced memory for
two totals and two batch sizes (it should follow the batch size, not the total).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCHEMA = {
    "type": "object",
    "required": ["id", "name", "email"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "maxLength": 100},
        "email": {"type": "string"},
        "active": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0},
        "address": {
            "type": "object",
            "required": ["city"],
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                "country": {"type": "string", "enum": ["US", "CA", "MX"]},
            },
        },
        "tags": {"type": "array", "items": {"type": "string"}},
        "orders": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "qty"],
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": "integer", "minimum": 1},
                    "price": {"type": "number"},
                },
            },
        },
        "created_at": {"type": "string"},
    },
}


def make_record(i: int) -> dict:
    return {
        "id": i,
        "name": f"Customer number {i}",
        "email": f"customer{i}@example.com",
        "active": i % 2 == 0,
        "score": i * 0.5,
        "address": {
            "street": f"{i} Main Street",
            "city": "Springfield",
            "zip": "12345",
            "country": "US",
        },
        "tags": ["vip", "newsletter", "b2b"],
        "orders": [{"sku": f"SKU-{i}-{j}", "qty": j + 1, "price": 9.99} for j in range(2)],
        "created_at": "2026-11-24T10:00:00Z",
    }


def records(n: int):
    return (make_record(i) for i in range(n))


# --- baseline: plain driver, no Django; the same table shape as data_record


def baseline(url: str, n: int) -> float:
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(SCHEMA)
    start = time.perf_counter()
    rows = []
    for record in records(n):
        if validator.is_valid(record):
            rows.append((1, str(record["id"]), json.dumps(record)))
    if url.startswith("sqlite"):
        import sqlite3

        path = url.split("///", 1)[1]
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("DROP TABLE IF EXISTS base_record")
        conn.execute(
            "CREATE TABLE base_record (id integer PRIMARY KEY AUTOINCREMENT, "
            "data_type_id bigint, key varchar(255), data text, created_at datetime, "
            "updated_at datetime, UNIQUE (data_type_id, key))"
        )
        conn.commit()
        conn.executemany(
            "INSERT INTO base_record (data_type_id, key, data, created_at, updated_at) "
            "VALUES (?, ?, ?, datetime('now'), datetime('now')) ON CONFLICT "
            "(data_type_id, key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            rows,
        )
        conn.commit()
    else:
        import psycopg

        conn = psycopg.connect(url.replace("postgres://", "postgresql://"))
        conn.execute("DROP TABLE IF EXISTS base_record")
        conn.execute(
            "CREATE TABLE base_record (id bigserial PRIMARY KEY, data_type_id bigint, "
            "key varchar(255), data jsonb, created_at timestamptz, "
            "updated_at timestamptz, UNIQUE (data_type_id, key))"
        )
        conn.commit()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO base_record (data_type_id, key, data, created_at, updated_at) "
                "VALUES (%s, %s, %s::jsonb, now(), now()) ON CONFLICT "
                "(data_type_id, key) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                rows,
            )
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


# --- the service, inside Django


def service_run(n: int, batch: int, trace: bool) -> tuple[float, int]:
    from apps.data.models import DataType, Namespace
    from apps.data.services import data_type_save, records_save

    namespace, _ = Namespace.objects.get_or_create(name="bench")
    DataType.objects.filter(namespace=namespace).delete()
    # Start from an empty table, as the baseline does: the rows deleted by the
    # previous run would otherwise bloat PostgreSQL's index until autovacuum runs.
    from django.db import connection

    with connection.cursor() as cursor:
        empty = (
            "TRUNCATE data_record"
            if connection.vendor == "postgresql"
            else "DELETE FROM data_record"
        )
        cursor.execute(empty)
    data_type = data_type_save(namespace=namespace, name="Customer", schema=SCHEMA)
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = records_save(data_type=data_type, records=records(n), batch_size=batch)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    assert result.created == n and not result.errors, result.as_dict()
    return n / elapsed, peak


def child(args: argparse.Namespace) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    url = os.environ["DATABASE_URL"]
    out = {}
    out["baseline"] = max(baseline(url, args.n) for _ in range(args.repeat))
    out["service"] = max(service_run(args.n, args.batch, False)[0] for _ in range(args.repeat))
    small = max(args.n // 5, args.batch)
    out["memory"] = [
        (small, args.batch, service_run(small, args.batch, True)[1]),
        (args.n, args.batch, service_run(args.n, args.batch, True)[1]),
        (args.n, args.batch * 4, service_run(args.n, args.batch * 4, True)[1]),
    ]
    print(json.dumps(out))


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="records per run")
    parser.add_argument("--batch", type=int, default=1000, help="records service batch size")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is kept")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(
        f"records_upsert: {args.n:,} records of ~{len(json.dumps(make_record(12345)))} bytes, "
        f"service batch {args.batch}, best of {args.repeat}"
    )
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            # DEBUG off: Django would keep every SQL statement (and its parameters) in memory.
            env = dict(os.environ, DATA_DIR=tmp, DEBUG="0", CELERY_TASK_ALWAYS_EAGER="1")
            if backend == "sqlite":
                env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            else:
                url = os.environ.get(
                    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ipaas_bench"
                )
                ensure_postgres_database(url)
                env["DATABASE_URL"] = url
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "-n",
                    str(args.n),
                    "--batch",
                    str(args.batch),
                    "--repeat",
                    str(args.repeat),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                sys.exit(f"{backend}: benchmark failed\n{proc.stderr[-3000:]}")
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
        ratio = figures["service"] / figures["baseline"]
        print(f"\n[{backend}]")
        print(
            f"  baseline (jsonschema-rs + one executemany): {figures['baseline']:>10,.0f} records/s"
        )
        print(
            f"  records service (records_save):             {figures['service']:>10,.0f} records/s"
        )
        print(
            f"  ratio service/baseline: {ratio:.0%}  (goal >= 60%: "
            f"{'met' if ratio >= 0.6 else 'NOT met'})"
        )
        for total, batch, peak in figures["memory"]:
            print(
                f"  peak traced memory, {total:>7,} records, batch {batch:>5}: "
                f"{peak / 2**20:6.1f} MiB"
            )


if __name__ == "__main__":
    main()
