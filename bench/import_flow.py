"""Benchmark: an import flow (paged REST API -> validated, upserted records) against a plain script.

60,000 records of ~400 bytes (bench/records_upsert.py's), 200 per page, from a
local paged API behind a bearer token (bench/fetch.py's server, its own
process), read in the same run by:

* the platform: an import flow (webhook + connection + bearer authorization,
  a JMESPath mapping translator that keeps the record as it is, a target data
  type) run by the engine as the worker runs it (``task_run``: lock, attempt,
  progress, records service);
* a plain script doing the same: ``requests.Session`` + jsonschema-rs + one
  ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE`` and a commit per page,
  on the bare DB-API driver.

Each case is a first import into an empty table and a re-import of the same,
unchanged data, on SQLite and PostgreSQL, on a quiet machine and with another
process keeping one core busy. Every run is its own child process, baseline
and platform alternating (``--repeat``: the best of each is kept).

    .venv/bin/python bench/import_flow.py
    .venv/bin/python bench/import_flow.py -n 20000 --backends sqlite --loads quiet --repeat 1
    .venv/bin/python bench/import_flow.py --latency 5   # an API taking 5 ms per page

PostgreSQL is reached at BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/ipaas_bench_import; created if missing).
Prints records/s of both, the ratio, and each side's peak resident memory
during the import (VmHWM, reset before it starts).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fetch import PAGE_SIZE, TOKEN, start_server  # noqa: E402
from bench.records_upsert import SCHEMA, ensure_postgres_database, make_record  # noqa: E402

GOAL = 0.9


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the plain script: no Django, the same table shape as data_record


def plain_connect(url: str):
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1])
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS base_record (id integer PRIMARY KEY AUTOINCREMENT, "
            "data_type_id bigint, key varchar(255), data text, created_at datetime, "
            "updated_at datetime, UNIQUE (data_type_id, key))"
        )
        sql = (
            "INSERT INTO base_record (data_type_id, key, data, created_at, updated_at) "
            "VALUES (?, ?, ?, datetime('now'), datetime('now')) ON CONFLICT "
            "(data_type_id, key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at"
        )
    else:
        import psycopg

        conn = psycopg.connect(url.replace("postgres://", "postgresql://"))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS base_record (id bigserial PRIMARY KEY, "
            "data_type_id bigint, key varchar(255), data jsonb, created_at timestamptz, "
            "updated_at timestamptz, UNIQUE (data_type_id, key))"
        )
        sql = (
            "INSERT INTO base_record (data_type_id, key, data, created_at, updated_at) "
            "VALUES (%s, %s, %s::jsonb, now(), now()) ON CONFLICT "
            "(data_type_id, key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at"
        )
    conn.commit()
    return conn, sql


def plain_import(url: str, api: str) -> int:
    """What a hand-written import does: fetch a page, validate it, store it, commit."""
    import jsonschema_rs
    import requests

    validator = jsonschema_rs.validator_for(SCHEMA)
    conn, sql = plain_connect(url)
    count, page = 0, 1
    with requests.Session() as session:
        while True:
            response = session.get(
                f"{api}/records",
                params={"page": page, "per_page": PAGE_SIZE},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=(5, 30),
            )
            response.raise_for_status()
            body = json.loads(response.content)
            rows = [
                (1, str(record["id"]), json.dumps(record))
                for record in body["data"]
                if validator.is_valid(record)
            ]
            cursor = conn.cursor()
            cursor.executemany(sql, rows)
            cursor.close()
            conn.commit()
            count += len(rows)
            if not body["info"]["more"]:
                break
            page += 1
    conn.close()
    return count


def plain_empty(url: str) -> None:
    conn, _ = plain_connect(url)
    conn.execute("DELETE FROM base_record")
    conn.commit()
    conn.close()


# --- the platform


def setup_django() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def import_flow(api: str):
    """The elements of an import: the bench's webhook, a data type, a translator, a flow."""
    from apps.data.services import data_type_save, namespace_get_or_create
    from apps.workflows.models import Flow, Translator
    from apps.workflows.services import element_save
    from bench.fetch import setup_webhook

    made = Flow.objects.filter(name="import_customers").first()
    if made is not None:  # made by an earlier run of this case
        return made
    webhook = setup_webhook(api, "records")
    namespace = namespace_get_or_create(name="bench")
    customer = data_type_save(namespace=namespace, name="Customer", schema=SCHEMA)
    parse = element_save(
        model=Translator,
        namespace=namespace,
        name="parse_customers",
        type="import",
        style="mapping",
        target_data_type=customer,
        mapping={},
    )
    return element_save(
        model=Flow, namespace=namespace, name="import_customers", translator=parse, webhook=webhook
    )


def platform_import(flow) -> dict:
    """Run the flow as a worker runs it: the task's lock, an attempt, the flow, its outcome."""
    from apps.workflows.engine.runner import task_run
    from apps.workflows.models import Task

    task = Task.objects.create(
        namespace_id=flow.namespace_id, kind=Task.Kind.FLOW, flow=flow, description="bench"
    )
    status = task_run(task.pk, worker="bench")
    task.refresh_from_db()
    if status != Task.Status.COMPLETED:
        raise RuntimeError(f"the import ended {status}: {task.notifications.first()}")
    return task.result


def warm_up(flow) -> None:
    """What a worker has done before its first import: import the engine, compile the schema."""
    import apps.gateway.prefetch
    import apps.workflows.engine.execute  # noqa: F401
    from apps.data.services import validator_for

    validator_for(flow.translator.target_data_type)


def platform_empty() -> None:
    from django.db import connection

    empty = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
    with connection.cursor() as cursor:
        cursor.execute(f"{empty} data_record")


# --- one run: a first import and a re-import, in a child process


def child(args: argparse.Namespace) -> None:
    url = os.environ["DATABASE_URL"]
    if args.side == "platform":
        setup_django()
        flow = import_flow(args.api)
        warm_up(flow)
        empty, run = platform_empty, lambda: platform_import(flow)
    else:
        empty, run = (lambda: plain_empty(url)), (lambda: plain_import(url, args.api))
    empty()
    out = {}
    for phase in ("first", "again"):
        reset_peak_rss()
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        if args.side == "platform":
            expected = "created" if phase == "first" else "unchanged"
            assert result.get(expected) == args.n, result
        else:
            assert result == args.n, result
        out[phase] = {"rate": args.n / seconds, "rss": peak_rss_mib()}
    print(json.dumps(out))


def run_child(args, side: str, env: dict, api: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, "--api", api, "-n", str(args.n)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode:
        sys.exit(f"{side} failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def database_env(tmp: str, backend: str, default_postgres_url: str) -> dict[str, str]:
    """The environment of a benchmark child: its own DATA_DIR and an empty database.

    DEBUG off: Django would keep every SQL statement (and its parameters) in memory.
    PostgreSQL is reached at BENCH_POSTGRES_URL (else ``default_postgres_url``), created if
    missing and emptied (the secrets of another DATA_DIR's keys)."""
    env = dict(os.environ, DATA_DIR=tmp, DEBUG="0")
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        env["DATABASE_URL"] = os.environ.get("BENCH_POSTGRES_URL", default_postgres_url)
        ensure_postgres_database(env["DATABASE_URL"])
        reset_postgres(env["DATABASE_URL"])
    return env


def reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def busy_core() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def case(args, backend: str, load: str, api: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = database_env(tmp, backend, "postgres://postgres@127.0.0.1:5432/ipaas_bench_import")
        env["CELERY_TASK_ALWAYS_EAGER"] = "1"
        busy = busy_core() if load == "busy" else None
        try:
            best: dict = {}
            for _ in range(args.repeat):  # alternate, so that drift hits both alike
                for side in ("plain", "platform"):
                    for phase, figures in run_child(args, side, env, api).items():
                        kept = best.setdefault((side, phase), figures)
                        if figures["rate"] > kept["rate"]:
                            best[(side, phase)] = figures
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=60_000, help="records per import")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is kept")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--loads", default="quiet,busy", help="quiet, busy (one core kept busy)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="ms the API takes per page (default 0)"
    )
    parser.add_argument("--child", choices=["plain", "platform"], dest="side")
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args)
        return
    print(
        f"import_flow: {args.n:,} records of ~{len(json.dumps(make_record(12345)))} bytes, "
        f"{PAGE_SIZE} per page, API latency {args.latency:g} ms/page, best of {args.repeat}; "
        f"goal: platform >= {GOAL:.0%} of plain"
    )
    server, api = start_server(args.n, args.latency / 1000)
    try:
        for backend in args.backends.split(","):
            for load in args.loads.split(","):
                best = case(args, backend, load, api)
                where = "quiet" if load == "quiet" else "other core busy"
                for phase, name in (("first", "first import"), ("again", "re-import")):
                    plain, platform = best[("plain", phase)], best[("platform", phase)]
                    ratio = platform["rate"] / plain["rate"]
                    print(
                        f"[{backend:8} {name:12} {where:15}] plain {plain['rate']:>7,.0f}/s "
                        f"({plain['rss']:4.0f} MiB)  platform {platform['rate']:>7,.0f}/s "
                        f"({platform['rss']:4.0f} MiB)  ratio {ratio:4.0%} "
                        f"{'met' if ratio >= GOAL else 'NOT met'}",
                        flush=True,
                    )
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
