"""Benchmark of the workflows engine.

(a) converter throughput: a 10-field mapping over 100,000 records against a
    plain-Python dict mapping (bench/engine_mapping.py, run here);
(b) latency from a record saved through the API to the export request
    arriving at a local server, p50/p95/p99 over 500 saves, with a real worker
    on the embedded broker and on Redis; in the same run and alternating with
    it, a yardstick: a bare Celery task that enqueues a second one that makes
    the HTTP call (bench/yardstick.py). The worker's idle CPU is measured too;
(c) a 100,000-record import → convert → export run end to end: total time and
    the worker's peak memory.

    .venv/bin/python bench/engine.py                # everything
    .venv/bin/python bench/engine.py --parts b --saves 100 --brokers embedded

Each broker/database setup runs in a child process with its own DATA_DIR
(SQLite) and a real Celery worker started for it.
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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_worker(env: dict, concurrency: int = 2) -> subprocess.Popen:
    pool = (
        ["--pool=threads"]
        if env.get("CELERY_BROKER_URL", "filesystem://") == "filesystem://"
        else []
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={concurrency}",
            "-n",
            f"bench-{os.getpid()}@%h",
            "-I",
            "bench.yardstick",
            *pool,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["DATA_DIR"]) / "worker.log", "w"),
    )


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its children still running (prefork pools)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def idle_cpu_percent(pid: int, seconds: float = 5.0) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / seconds


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup_django() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(namespace_name: str, b_url: str, a_url: str | None, *, bulk: bool):
    """The A → B → C integration of the end-to-end test, in lots of 500."""
    from apps.data.models import Namespace
    from tests.workflows.integration import build_integration

    namespace = Namespace.objects.create(name=namespace_name)
    return build_integration(
        namespace, a_url=a_url, b_url=b_url, page_size=200, lot_size=500, bulk=bulk
    )


def latency(saves: int) -> dict:
    """(b): API save -> export request arrives at B; and the two-hop yardstick, alternating."""
    from rest_framework.test import APIClient
    from yardstick import hop_one  # type: ignore

    from apps.data.models import Namespace
    from tests.workflows.systems import SystemB

    received: dict[int, float] = {}
    b = SystemB().start()
    original = b.handle

    def timed(handler, method):
        original(handler, method)
        if b.received:
            received.setdefault(b.received[-1]["ref"], time.perf_counter())

    b.handle = timed
    build("lat", b.url, None, bulk=False)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("bench", password="x-Bench-pass-1")
    client = APIClient()
    client.force_authenticate(user)
    assert Namespace.objects.filter(name="lat").exists()
    env = dict(os.environ)
    worker = start_worker(env)

    def arrival(ref: int, start: float) -> float:
        deadline = time.time() + 30
        while ref not in received and time.time() < deadline:
            time.sleep(0.001)
        if ref not in received:
            raise RuntimeError(f"request {ref} never arrived at B")
        return (received[ref] - start) * 1000

    def save(i: int) -> float:
        start = time.perf_counter()
        response = client.post(
            "/api/v2/lat/Contact/",
            {"id": i, "first": "F", "last": str(i), "email": f"{i}@x"},
            format="json",
        )
        assert response.status_code == 201, response.content
        return arrival(i, start)

    def yardstick(i: int) -> float:
        start = time.perf_counter()
        hop_one.delay(b.url, -i)
        return arrival(-i, start)

    try:
        # warm-up: the worker's first tasks import everything
        save(0)
        yardstick(1_000_000)
        idle = idle_cpu_percent(worker.pid)
        platform, bare = [], []
        for i in range(1, saves + 1):
            platform.append(save(i))
            bare.append(yardstick(i))
    finally:
        worker.terminate()
        worker.wait(20)
        b.stop()

    def figures(samples: list[float]) -> dict:
        return {p: percentile(samples, n) for p, n in (("p50", 50), ("p95", 95), ("p99", 99))}

    return {"platform": figures(platform), "yardstick": figures(bare), "n": saves,
            "idle_cpu": idle}  # fmt: skip


def end_to_end(n: int) -> dict:
    """(c): import n records from A, convert, export to B in bulk lots of 500."""
    from apps.data.models import Record
    from apps.workflows.models import Task
    from apps.workflows.services import flow_run
    from tests.workflows.systems import SystemA, SystemB

    a = SystemA(
        [
            {"id": i, "first": f"First{i}", "last": f"Last{i}", "email": f"c{i}@a.test"}
            for i in range(n)
        ]
    ).start()
    b = SystemB().start()
    import_flow = build("e2e", b.url, a.url, bulk=True)
    worker = start_worker(dict(os.environ))
    try:
        start = time.perf_counter()
        flow_run(flow=import_flow)
        deadline = time.time() + 1800
        while sum(len(x) for x in b.received) < n and time.time() < deadline:
            time.sleep(0.2)
            if Task.objects.filter(status="failed").exists():
                raise RuntimeError(
                    Task.objects.filter(status="failed").first().notifications.first()
                )
        elapsed = time.perf_counter() - start
        peak = peak_rss_mib(worker.pid)
        exported = sum(len(x) for x in b.received)
        customers = Record.objects.filter(data_type__name="Customer").count()
    finally:
        worker.terminate()
        worker.wait(30)
        a.stop()
        b.stop()
    return {
        "seconds": elapsed,
        "records_per_s": n / elapsed,
        "worker_peak_rss_mib": peak,
        "exported": exported,
        "customers": customers,
        "requests_to_b": len(b.received),
    }


def child(args) -> None:
    setup_django()
    out = {}
    if "b" in args.parts:
        out["latency"] = latency(args.saves)
    if "c" in args.parts:
        out["e2e"] = end_to_end(args.records)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="abc")
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--brokers", default="embedded,redis")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if "a" in args.parts:
        subprocess.run([sys.executable, str(ROOT / "bench" / "engine_mapping.py")], check=True)
    child_parts = "".join(p for p in args.parts if p in "bc")
    if not child_parts:
        return
    for broker in args.brokers.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            # The API is called in-process (DRF's test client: host "testserver").
            env = dict(
                os.environ,
                DATA_DIR=tmp,
                DEBUG="0",
                ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
                DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
            )
            if broker == "redis":
                env["CELERY_BROKER_URL"] = os.environ.get(
                    "BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"
                )
                env["DATABASE_URL"] = os.environ.get(
                    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ipaas_bench_engine"
                )
                from records_upsert import ensure_postgres_database  # type: ignore

                ensure_postgres_database(env["DATABASE_URL"])
                _reset_postgres(env["DATABASE_URL"])
            else:
                env.pop("CELERY_BROKER_URL", None)
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--parts",
                    child_parts,
                    "--saves",
                    str(args.saves),
                    "--records",
                    str(args.records),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                worker_log = Path(tmp, "worker.log")
                sys.exit(
                    f"{broker}: failed\n{proc.stderr[-3000:]}\n"
                    f"{worker_log.read_text()[-2000:] if worker_log.exists() else ''}"
                )
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
        db = "SQLite" if broker == "embedded" else "PostgreSQL"
        print(f"\n[{broker} broker, {db}]")
        if "latency" in figures:
            lat = figures["latency"]
            for name, what in (
                ("platform", "API save -> export request at B"),
                ("yardstick", "bare task -> task -> request at B"),
            ):
                f = lat[name]
                print(
                    f"  (b) {what:34} {lat['n']} times: p50 {f['p50']:6.1f} ms, "
                    f"p95 {f['p95']:6.1f} ms, p99 {f['p99']:6.1f} ms"
                )
            ratio = lat["platform"]["p50"] / lat["yardstick"]["p50"]
            goal = (
                f"goal p50 < 100 ms: {'met' if lat['platform']['p50'] < 100 else 'NOT met'}"
                if broker == "embedded"
                else f"goal within 2x: {'met' if ratio <= 2 else 'NOT met'}"
            )
            print(
                f"      platform p50 / yardstick p50: {ratio:.2f}x ({goal}); "
                f"worker idle CPU {lat['idle_cpu']:.1f}% of a core"
            )
        if "e2e" in figures:
            e2e = figures["e2e"]
            print(
                f"  (c) {args.records:,} records import -> convert -> export: "
                f"{e2e['seconds']:.1f} s ({e2e['records_per_s']:,.0f} records/s), worker peak RSS "
                f"{e2e['worker_peak_rss_mib']:.0f} MiB, {e2e['exported']:,} exported in "
                f"{e2e['requests_to_b']} requests"
            )


def _reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    main()
