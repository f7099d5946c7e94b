"""A real CRM-like HTTP API on 127.0.0.1 for the connector factory's tests and benchmark.

Contacts ``{"id": int, "first_name", "last_name", "email", "updated_at"}``, ids from 1:

* ``GET /contacts?page=&per_page=`` — page_number: ``{"data": [...], "info":
  {"page", "per_page", "more_records"}}``; ``updated_since`` keeps only contacts
  updated after it (incremental imports);
* ``GET /offset/contacts?offset=&limit=`` — ``{"data": [...], "total": n}``;
* ``GET /cursor/contacts?cursor=`` — ``{"data": [...], "next_cursor": c|null}``;
* ``GET /link/contacts?page=`` — a JSON list with ``Link: <…>; rel="next"``;
* ``GET /next/contacts?page=`` — ``{"data": [...], "next": url|null}``;
* ``GET /contacts/<id>`` — ``{"data": [contact]}`` (as Zoho answers);
* ``POST /contacts`` — creates (``{"data": [{"code": "SUCCESS", "details": {"id"}}]}``);
* ``PUT /contacts/<id>`` — updates (answers the contact);
* ``POST /oauth/token`` — OAuth 2.0 client credentials, issuing ``crm-token-1``, ``-2``…

``auth`` selects what every resource but the token endpoint requires: None,
``("basic", user, password)``, ``("bearer", token)``, ``("api_key", name, value,
"header"|"query")`` or ``("oauth2", client_id, client_secret)`` (a token it issued).
``errors`` queues error answers ``(status, body)`` for the next POST/PUT;
``page_delay`` slows every page (to kill a worker in the middle of an import),
``write_delay`` every create and update (so that two exports overlap).
``requests`` records every request: method, path, query, headers, JSON body.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 100


def contact(i: int) -> dict:
    return {
        "id": i,
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "email": f"person{i}@example.com",
        "phone": f"+1-555-{i:07d}",
        "company": {"name": f"Company {i % 97}", "size": i % 500},
        "tags": ["crm", f"t{i % 7}"],
        "updated_at": f"2026-01-01T00:00:{i % 60:02d}Z" if i else "",
    }


class CrmAPI:
    def __init__(self, contacts: int = 1000, *, page_size: int = PAGE_SIZE) -> None:
        self.contacts: dict[int, dict] = {i: contact(i) for i in range(1, contacts + 1)}
        self.page_size = page_size
        self.auth: tuple | None = None
        self.errors: deque = deque()
        self.page_delay = 0.0
        self.write_delay = 0.0
        self.requests: list[dict] = []
        self.issued: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> CrmAPI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of(self, method: str, prefix: str = "/contacts") -> list[dict]:
        """The recorded requests of a method to paths under ``prefix``."""
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(prefix)]

    # --- serving ----------------------------------------------------------------------

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                api.handle(self, "GET")

            def do_POST(self):
                api.handle(self, "POST")

            def do_PUT(self):
                api.handle(self, "PUT")

        return Handler

    def reply(self, handler, status: int, payload, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _authorized(self, handler, query: dict) -> bool:
        if self.auth is None:
            return True
        kind, *values = self.auth
        header = handler.headers.get("Authorization", "")
        if kind == "basic":
            expected = base64.b64encode(f"{values[0]}:{values[1]}".encode()).decode()
            return header == f"Basic {expected}"
        if kind == "bearer":
            return header == f"Bearer {values[0]}"
        if kind == "api_key":
            name, value, where = values
            found = handler.headers.get(name) if where == "header" else query.get(name, [""])[0]
            return found == value
        if kind == "oauth2":
            return any(header == f"Bearer {token}" for token in self.issued)
        return False

    def handle(self, handler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self.lock:
            self.requests.append(
                {"method": method, "path": parts.path, "query": query,
                 "headers": dict(handler.headers), "body": body}
            )  # fmt: skip
        if parts.path == "/oauth/token":
            return self._token(handler, body if isinstance(body, dict) else parse_qs(raw.decode()))
        if not self._authorized(handler, query):
            return self.reply(handler, 401, {"message": "not authorized"})
        path = parts.path.strip("/").split("/")
        style = path[0] if path[0] in {"offset", "cursor", "link", "next"} else "page"
        if style != "page":
            path = path[1:]
        if path[0] != "contacts":
            return self.reply(handler, 404, {"message": "no such resource"})
        if method in {"POST", "PUT"} and self.write_delay:
            time.sleep(self.write_delay)
        if method in {"POST", "PUT"} and self.errors:
            status, payload = self.errors.popleft()
            return self.reply(handler, status, payload)
        if method == "GET" and len(path) == 1:
            return self._list(handler, style, query)
        if method == "GET" and len(path) == 2:
            found = self.contacts.get(int(path[1])) if path[1].isdigit() else None
            if found is None:
                return self.reply(handler, 404, {"message": f"contact {path[1]} not found"})
            return self.reply(handler, 200, {"data": [found]})
        if method == "POST" and len(path) == 1:
            with self.lock:
                new_id = max(self.contacts, default=0) + 1
                self.contacts[new_id] = {**(body or {}), "id": new_id}
            details = {"id": str(new_id), "Created_Time": "2026-12-01T00:00:00Z"}
            return self.reply(handler, 201, {"data": [{"code": "SUCCESS", "details": details}]})
        if method == "PUT" and len(path) == 2 and path[1].isdigit():
            key = int(path[1])
            if key not in self.contacts:
                return self.reply(handler, 404, {"message": f"contact {key} not found"})
            self.contacts[key] = {**(body or {}), "id": key}
            return self.reply(handler, 200, self.contacts[key])
        return self.reply(handler, 405, {"message": "method not allowed"})

    def _token(self, handler, form: dict) -> None:
        def value(name):
            found = form.get(name)
            return found[0] if isinstance(found, list) else found

        expected = self.auth[1:] if self.auth and self.auth[0] == "oauth2" else None
        basic = handler.headers.get("Authorization", "")
        given = (value("client_id"), value("client_secret"))
        if basic.startswith("Basic "):
            given = tuple(base64.b64decode(basic[6:]).decode().split(":", 1))  # type: ignore[assignment]
        if value("grant_type") != "client_credentials" or (expected and given != expected):
            return self.reply(handler, 401, {"error": "invalid_client"})
        token = f"crm-token-{len(self.issued) + 1}"
        self.issued.append(token)
        self.reply(
            handler, 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
        )

    def _list(self, handler, style: str, query: dict) -> None:
        if self.page_delay:
            time.sleep(self.page_delay)
        items = sorted(self.contacts.values(), key=lambda c: c["id"])
        since = query.get("updated_since", [""])[0]
        if since:
            items = [c for c in items if c.get("updated_at", "") > since]

        def number(name: str, default: int) -> int:
            return int(query.get(name, [default])[0])

        base = f"http://{handler.headers.get('Host')}"
        if style == "page":
            page, size = number("page", 1), number("per_page", self.page_size)
            chunk = items[(page - 1) * size : page * size]
            more = page * size < len(items)
            info = {"page": page, "per_page": size, "more_records": more}
            return self.reply(handler, 200, {"data": chunk, "info": info})
        if style == "offset":
            offset, limit = number("offset", 0), number("limit", self.page_size)
            return self.reply(
                handler, 200, {"data": items[offset : offset + limit], "total": len(items)}
            )
        if style == "cursor":
            after = number("cursor", 0)
            chunk = [c for c in items if c["id"] > after][: self.page_size]
            more = bool(chunk) and chunk[-1]["id"] < items[-1]["id"]
            return self.reply(
                handler, 200, {"data": chunk, "next_cursor": chunk[-1]["id"] if more else None}
            )
        page = number("page", 1)
        chunk = items[(page - 1) * self.page_size : page * self.page_size]
        more = page * self.page_size < len(items)
        following = f"/{style}/contacts?page={page + 1}"
        if style == "link":
            headers = {"Link": f'<{base}{following}>; rel="next"'} if more else {}
            return self.reply(handler, 200, chunk, headers)
        return self.reply(handler, 200, {"data": chunk, "next": following if more else None})
