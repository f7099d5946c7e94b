"""A real HTTP API on 127.0.0.1 for the gateway's tests: every pagination type, faults, auth.

Resources (``records`` of them, ``{"id": i, "name": ...}``, i from 1):

* ``/items`` — all records as a JSON list (no pagination);
* ``/pages?page=&per_page=`` — ``{"data": [...], "info": {"more": bool, "total_pages": n}}``;
* ``/offset?offset=&limit=`` — ``{"items": [...], "total": n}``;
* ``/cursor?cursor=`` — ``{"data": [...], "next": cursor|null, "has_more": bool}``;
* ``/link?page=`` — a JSON list with a ``Link: <…>; rel="next"`` header;
* ``/next?page=`` — ``{"results": [...], "next": url|null}`` (relative URLs);
* ``/loop`` — a next URL pointing at itself, and always the same next cursor;
* ``/redirect?to=URL`` — a 302 to that URL;
* ``/echo`` — the request (method, path, query, headers, body) as JSON;
* ``/token`` — an OAuth 2.0 token endpoint issuing ``token-1``, ``token-2``…

``faults`` queues answers served before the normal one, per path:
``{"status": 429, "headers": {"Retry-After": "1"}}``, ``{"status": 503}``,
``{"delay": 0.5}`` (slow), ``{"body": "{not json"}``. ``require`` makes every
resource but /token check credentials (401 otherwise). ``hits`` records
every request.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 5


class RemoteAPI:
    def __init__(self, records: int = 23, page_size: int = PAGE_SIZE) -> None:
        self.records = [{"id": i, "name": f"item {i}"} for i in range(1, records + 1)]
        self.page_size = page_size
        self.faults: dict[str, deque] = defaultdict(deque)
        self.require: tuple | None = (
            None  # ("basic", user, pw) | ("bearer", token) | ("key", name, value, "header"|"query")
        )
        self.issued_tokens = 0
        self.hits: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # clients that time out hang up
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> RemoteAPI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(self, path: str, *answers: dict) -> None:
        self.faults[path].extend(answers)

    def paths(self, path: str | None = None) -> list[str]:
        """The request paths with queries, in order (optionally only those of ``path``)."""
        return [hit["url"] for hit in self.hits if path is None or hit["path"] == path]

    # --- the resources -----------------------------------------------------------

    def slice(self, start: int, size: int) -> list[dict]:
        return self.records[start : start + size]

    def answer(self, path: str, query: dict, handler) -> tuple[int, dict, object]:
        one = {key: values[0] for key, values in query.items()}
        size = int(one.get("per_page", one.get("limit", self.page_size)))
        if path == "/items":
            return 200, {}, self.records
        if path == "/pages":
            page = int(one.get("page", 1))
            total_pages = -(-len(self.records) // size)
            data = self.slice((page - 1) * size, size)
            return 200, {}, {"data": data, "info": {"more": page < total_pages,
                                                    "total_pages": total_pages}}  # fmt: skip
        if path == "/offset":
            data = self.slice(int(one.get("offset", 0)), size)
            return 200, {}, {"items": data, "total": len(self.records)}
        if path == "/cursor":
            # "c-10" (a next_cursor) or "10" (the id of the last record read: ids start at 1).
            start = int(one.get("cursor", "0").removeprefix("c-"))
            data = self.slice(start, size)
            more = start + size < len(self.records)
            return 200, {}, {"data": data, "next": f"c-{start + size}" if more else None,
                             "has_more": more}  # fmt: skip
        if path in ("/link", "/next"):
            page = int(one.get("page", 1))
            data = self.slice((page - 1) * size, size)
            more = page * size < len(self.records)
            if path == "/link":
                headers = {"Link": f'<{self.url}/link?page={page + 1}>; rel="next"'} if more else {}
                return 200, headers, data
            return 200, {}, {"results": data, "next": f"next?page={page + 1}" if more else None}
        if path == "/loop":
            return 200, {}, {"results": [{"id": 1}], "next": "/loop?again=1", "cursor": "same"}
        if path == "/redirect":
            return 302, {"Location": one["to"]}, {}
        if path.startswith("/echo"):
            return 200, {}, handler.described()
        return 404, {}, {"error": f"no resource {path}"}

    def authorized(self, handler, query: dict) -> bool:
        if self.require is None:
            return True
        kind, *args = self.require
        header = handler.headers.get("Authorization", "")
        if kind == "basic":
            expected = base64.b64encode(f"{args[0]}:{args[1]}".encode()).decode()
            return header == f"Basic {expected}"
        if kind == "bearer":
            return header == f"Bearer {args[0]}"
        name, value, where = args
        if where == "query":
            return query.get(name) == [value]
        return handler.headers.get(name) == value

    def token(self, handler) -> tuple[int, dict, object]:
        self.issued_tokens += 1
        token = f"token-{self.issued_tokens}"
        self.require = ("bearer", token)  # the old token stops working, as after a revocation
        return 200, {}, {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                         "refresh_token": f"refresh-{self.issued_tokens}"}  # fmt: skip

    # --- HTTP --------------------------------------------------------------------

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def described(self) -> dict:
                return {"method": self.command, "path": self.path, "headers": dict(self.headers),
                        "body": self.body.decode()}  # fmt: skip

            def handle_any(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                api.hits.append({"path": parts.path, "url": self.path, "method": self.command,
                                 "headers": dict(self.headers)})  # fmt: skip
                fault = api.faults[parts.path].popleft() if api.faults[parts.path] else None
                if fault and "delay" in fault:
                    time.sleep(fault["delay"])
                if parts.path == "/token":
                    status, headers, body = api.token(self)
                elif not api.authorized(self, query):
                    status, headers, body = 401, {}, {"error": "unauthorized"}
                elif fault and ("status" in fault or "body" in fault):
                    status, headers = fault.get("status", 200), fault.get("headers", {})
                    body = fault.get("body", {"error": "injected"})
                else:
                    status, headers, body = api.answer(parts.path, query, self)
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        return Handler
