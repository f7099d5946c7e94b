"""Benchmark: an import through a generated connector against a plain-Python script.

Records of ~400 bytes (bench/records_upsert.py's), 200 per page, from a local
paged API behind a bearer token (bench/fetch.py's server, its own process),
read in the same run by:

* the platform: a connector generated from a spec (``connector_generate``), its
  ``do_import_customers`` run as a task the way a worker runs it (``task_run``,
  lot after lot through ``task.state`` and ``run_again``); the algorithms run in
  runner processes and call the platform's library (fetch_page, save_imported);
* a plain script: ``requests.Session`` + jsonschema-rs + one ``executemany`` of
  ``INSERT … ON CONFLICT DO UPDATE`` and a commit per page (bench/import_flow.py's).

Both import into an empty table, on SQLite and PostgreSQL, at 20,000 and
100,000 records (the platform's peak memory must not grow with the count);
each run is its own child process. Prints records/s of both, the ratio and
each side's peak resident memory (VmHWM, reset before the import), and the
machine's load (``uptime``).

    .venv/bin/python bench/connector_import.py
    .venv/bin/python bench/connector_import.py --sizes 20000 --backends sqlite

PostgreSQL is reached at BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/ipaas_bench_connector; created if missing).
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
from bench.import_flow import (  # noqa: E402
    database_env,
    peak_rss_mib,
    plain_empty,
    plain_import,
    reset_peak_rss,
)
from bench.records_upsert import make_record  # noqa: E402

GOAL = 0.5


def spec(api: str) -> dict:
    return {
        "name": "bench_crm",
        "authorization": {"type": "bearer", "token": TOKEN},
        "connection": {"base_url": api},
        "resources": [{
            "name": "customer", "processes": ["import"],
            "import": {
                "get_one": {"path": "records/{{remote_id}}"},
                "get_many": {"path": "records"},
                "records_path": "data",
                "pagination": {"type": "page_number", "size_param": "per_page",
                               "size": PAGE_SIZE, "has_more_path": "info.more"},
            },
        }],
    }  # fmt: skip


def setup_django() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def platform_import(algorithm) -> dict:
    """do_import_customers as a worker runs it: one task, lot after lot until it completes."""
    from apps.workflows.engine.runner import task_run
    from apps.workflows.models import Task

    task = Task.objects.create(
        namespace_id=algorithm.namespace_id, kind=Task.Kind.ALGORITHM, algorithm=algorithm,
        description="bench", input={"arguments": {}},
    )  # fmt: skip
    status = Task.Status.PENDING
    while status == Task.Status.PENDING:
        status = task_run(task.pk, worker="bench")
    task.refresh_from_db()
    if status != Task.Status.COMPLETED:
        raise RuntimeError(f"the import ended {status}: {task.executions.last().error}")
    return task.result


def child(args: argparse.Namespace) -> None:
    url = os.environ["DATABASE_URL"]
    if args.side == "platform":
        setup_django()
        from apps.connector_factory.generator import connector_generate
        from apps.workflows.models import Algorithm

        connector_generate(spec=spec(args.api), actor=None)
        algorithm = Algorithm.objects.get(namespace__name="bench_crm", name="do_import_customers")
        from apps.runners.services import prestart

        prestart()  # warm runners, as a worker has
        run = lambda: platform_import(algorithm)  # noqa: E731
    else:
        plain_empty(url)
        run = lambda: plain_import(url, args.api)  # noqa: E731
    reset_peak_rss()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    count = result["imported"] if args.side == "platform" else result
    assert count == args.n, result
    print(json.dumps({"rate": args.n / seconds, "rss": peak_rss_mib(), "seconds": seconds}))


def run_child(args, side: str, env: dict, api: str, n: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", side, "--api", api, "-n", str(n)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode:
        sys.exit(f"{side} failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def case(args, backend: str, n: int, api: str) -> dict:
    best: dict = {}
    for _ in range(args.repeat):  # alternate, so that drift hits both alike
        for side in ("plain", "platform"):
            with tempfile.TemporaryDirectory() as tmp:
                env = database_env(
                    tmp, backend, "postgres://postgres@127.0.0.1:5432/ipaas_bench_connector"
                )
                env["GATEWAY_DENY_PRIVATE_ADDRESSES"] = "0"
                figures = run_child(args, side, env, api, n)
            kept = best.setdefault(side, figures)
            if figures["rate"] > kept["rate"]:
                best[side] = figures
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="20000,100000", help="record counts to import")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--child", choices=["plain", "platform"], dest="side")
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        child(args)
        return
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"connector_import: records of ~{len(json.dumps(make_record(12345)))} bytes, "
        f"{PAGE_SIZE} per page, best of {args.repeat}; goal: platform >= {GOAL:.0%} of plain\n"
        f"load before: {uptime}"
    )
    sizes = [int(size) for size in args.sizes.split(",")]
    for backend in args.backends.split(","):
        for n in sizes:
            server, api = start_server(n)
            try:
                best = case(args, backend, n, api)
            finally:
                server.kill()
                server.wait()
            plain, platform = best["plain"], best["platform"]
            ratio = platform["rate"] / plain["rate"]
            print(
                f"[{backend:8} {n:>7,} records] plain {plain['rate']:>7,.0f}/s "
                f"({plain['rss']:4.0f} MiB)  connector {platform['rate']:>7,.0f}/s "
                f"({platform['rss']:4.0f} MiB peak)  ratio {ratio:4.0%} "
                f"{'met' if ratio >= GOAL else 'NOT met'}",
                flush=True,
            )
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load after: {uptime}")


if __name__ == "__main__":
    main()
