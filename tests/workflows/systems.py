"""Two small real HTTP servers playing remote systems in end-to-end tests.

* :class:`SystemA` serves contacts, paged: ``GET /contacts?page=N&per_page=M``
  → ``{"data": [...], "more": bool}``; tests change its records between imports.
* :class:`SystemB` accepts ``POST /customers`` (JSON), answers 201 with an id,
  and remembers every body it received, in order. It can be told to fail.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class _Server:
    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                owner.handle(self, "GET")

            def do_POST(self):
                owner.handle(self, "POST")

            def do_PUT(self):
                owner.handle(self, "PUT")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def reply(handler, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


class SystemA(_Server):
    def __init__(self, contacts: list[dict]) -> None:
        super().__init__()
        self.contacts = contacts
        self.requests: list[str] = []

    def handle(self, handler, method: str) -> None:
        url = urlparse(handler.path)
        with self.lock:
            self.requests.append(handler.path)
        if method != "GET" or url.path != "/contacts":
            return self.reply(handler, 404, {"error": "not found"})
        query = parse_qs(url.query)
        page, size = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["10"])[0])
        with self.lock:
            chunk = self.contacts[(page - 1) * size : page * size]
            more = page * size < len(self.contacts)
        self.reply(handler, 200, {"data": chunk, "more": more})


class SystemB(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[dict] = []
        self.authorizations: list[str | None] = []
        self.fail_next = 0
        self.fail_status = 503

    def handle(self, handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        if method != "POST" or urlparse(handler.path).path != "/customers":
            return self.reply(handler, 404, {"error": "not found"})
        with self.lock:
            self.authorizations.append(handler.headers.get("Authorization"))
            if self.fail_next:
                self.fail_next -= 1
                return self.reply(handler, self.fail_status, {"error": "try later"})
            try:
                body = json.loads(raw)
            except ValueError:
                return self.reply(handler, 400, {"error": "body is not JSON"})
            self.received.append(body)
            number = len(self.received)
        self.reply(handler, 201, {"id": f"B-{number}", "ok": True})
