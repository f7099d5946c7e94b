"""Benchmark: fetch 100,000 records (200 per page) through the gateway's HTTP client.

A local paged API (a ThreadingHTTPServer in its own process, serving
pre-serialized JSON pages behind a bearer token) is read twice in the same run:

* by the client service (apps.gateway.client.webhook_fetch): bearer
  authorization, retries on, a RequestLog row per request, pagination by
  page number with ``has_more_path``;
* by a plain ``requests.Session`` loop doing the same requests and JSON parsing.

    .venv/bin/python bench/fetch.py                   # 100,000 records, best of 3
    .venv/bin/python bench/fetch.py -n 20000 --repeat 1

Prints records/s of both, the ratio (goal: client >= 80% of plain), and the
client's peak traced memory for two totals (it should follow the page size,
not the total). ``GATEWAY_LOG_SUCCESS_BODIES=1`` in the environment measures
the client logging the (redacted) bodies of successful pages too.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.records_upsert import make_record  # noqa: E402  (the same ~400-byte records)

TOKEN = "bench-token-0123456789"
PAGE_SIZE = 200


# --- the remote API: its own process, so that it does not share the client's GIL


def serve(total: int, page_size: int, latency: float = 0.0) -> None:
    pages_count = -(-total // page_size)
    pages = {}
    for page in range(1, pages_count + 1):
        start = (page - 1) * page_size
        records = [make_record(i) for i in range(start, min(start + page_size, total))]
        body = {"data": records, "info": {"more": page < pages_count}}
        pages[page] = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if latency:  # a remote API's think time and round trip
                time.sleep(latency)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            query = parse_qs(urlsplit(self.path).query)
            raw = pages.get(int(query.get("page", ["1"])[0]), b'{"data": []}')
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def start_server(total: int, latency: float = 0.0) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", "-n", str(total), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = process.stdout.readline().strip()
    return process, f"http://127.0.0.1:{port}"


# --- the two readers


def plain(url: str) -> int:
    """What a hand-written import loop does: one session, page after page."""
    import requests

    count, page = 0, 1
    with requests.Session() as session:
        while True:
            response = session.get(
                f"{url}/records",
                params={"page": page, "per_page": PAGE_SIZE},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=(5, 30),
            )
            response.raise_for_status()
            body = json.loads(response.content)  # as the client parses: no encoding guess
            count += len(body["data"])
            if not body["info"]["more"]:
                return count
            page += 1


def setup_webhook(url: str, name: str):
    """A bearer authorization, a connection to ``url`` and a paged webhook named ``name``."""
    from apps.data.models import Namespace
    from apps.gateway.services import connection_save, webhook_save
    from apps.security.models import Authorization
    from apps.security.services import authorization_save

    namespace, _ = Namespace.objects.get_or_create(name="bench")
    authorization = Authorization.objects.filter(namespace=namespace, name="bearer").first()
    if authorization is None:
        authorization = authorization_save(
            namespace=namespace, name="bearer", kind="bearer", token=TOKEN
        )
    connection = connection_save(
        namespace=namespace, name=name, base_url=url, authorization=authorization, max_attempts=4
    )
    return webhook_save(
        namespace=namespace,
        name=name,
        path="records",
        records_path="data",
        pagination={"type": "page_number", "size_param": "per_page", "size": PAGE_SIZE,
                    "has_more_path": "info.more"},
        connection=connection,
    )  # fmt: skip


def client(webhook) -> int:
    from apps.gateway.client import webhook_fetch

    return sum(len(page.records) for page in webhook_fetch(webhook=webhook))


def timed(function, *args) -> tuple[float, int]:
    start = time.perf_counter()
    count = function(*args)
    return time.perf_counter() - start, count


def traced_peak(function, *args) -> int:
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def child(args: argparse.Namespace) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    django.setup()
    from django.core.management import call_command

    from apps.gateway.models import RequestLog

    call_command("migrate", verbosity=0)
    server, url = start_server(args.n)
    try:
        webhook = setup_webhook(url, "large")
        out = {"plain": 0.0, "client": 0.0}
        for _ in range(args.repeat):  # alternate, so that drift hits both alike
            seconds, count = timed(plain, url)
            assert count == args.n, count
            out["plain"] = max(out["plain"], count / seconds)
            seconds, count = timed(client, webhook)
            assert count == args.n, count
            out["client"] = max(out["client"], count / seconds)
        out["logs_per_fetch"] = RequestLog.objects.count() // args.repeat
        small_server, small_url = start_server(args.n // 5)
        try:
            small = setup_webhook(small_url, "small")
            out["memory"] = [
                (args.n // 5, traced_peak(client, small)),
                (args.n, traced_peak(client, webhook)),
            ]
        finally:
            small_server.kill()
    finally:
        server.kill()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="records per fetch")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is kept")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.n, PAGE_SIZE, args.latency)
        return
    if args.child:
        child(args)
        return
    print(f"fetch: {args.n:,} records of ~{len(json.dumps(make_record(12345)))} bytes, "
          f"{PAGE_SIZE} per page, bearer auth, best of {args.repeat}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        # DEBUG off: Django would keep every SQL statement in memory.
        env = dict(os.environ, DATA_DIR=tmp, DEBUG="0", DATABASE_URL=f"sqlite:///{tmp}/b.sqlite3")
        proc = subprocess.run(
            [sys.executable, __file__, "--child", "-n", str(args.n), "--repeat", str(args.repeat)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if proc.returncode:
        sys.exit(f"benchmark failed\n{proc.stderr[-3000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    ratio = figures["client"] / figures["plain"]
    print(f"  plain requests.Session loop:        {figures['plain']:>10,.0f} records/s")
    print(f"  gateway client (webhook_fetch):     {figures['client']:>10,.0f} records/s")
    print(
        f"  ratio client/plain: {ratio:.0%}  (goal >= 80%: {'met' if ratio >= 0.8 else 'NOT met'})"
    )
    print(f"  request log rows written per fetch: {figures['logs_per_fetch']}")
    for total, peak in figures["memory"]:
        print(f"  client peak traced memory, {total:>7,} records: {peak / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
