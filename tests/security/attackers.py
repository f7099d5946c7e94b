"""What the security tests attack with: a listener that must hear nothing, and a
resolver and network of the test's own, so that nothing leaves this machine.

* :class:`Listener` accepts TCP connections on 127.0.0.1 and keeps what each
  sent; an attack has failed when ``listener.received`` stays empty. It can
  also answer like an HTTP server that echoes the request (``echo=True``), to
  play a remote a user controls.
* :func:`offline_network` patches the resolver so that test host names resolve
  to the addresses the test chose (documentation addresses such as
  203.0.113.5 play public hosts), and makes every connect to an address that is
  not loopback fail at once.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Iterator

from tests.workflows.systems import _Server


class Listener:
    """``with Listener() as listener:`` a TCP server on 127.0.0.1 recording every byte."""

    def __init__(self, *, echo: bool = False) -> None:
        self.echo = echo
        self.received: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    @property
    def text(self) -> str:
        return b"".join(self.received).decode("utf-8", "replace")

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = self._read_request(conn)
                self.received.append(data)
                if self.echo:
                    body = json.dumps({"echo": data.decode("utf-8", "replace")}).encode()
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body
                    )

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return data
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
            data = head + b"\r\n\r\n" + rest
        return data


Answer = list[str] | Callable[[], list[str]]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def offline_network(names: dict[str, Answer]) -> Iterator[list[str]]:
    """Resolve ``names`` (to a list of addresses, or a function giving one per lookup)
    and refuse every connect to a non-loopback address. Yields the lookups made."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    lookups: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name in names:
            lookups.append(name)
            answer = names[name]
            addresses = answer() if callable(answer) else answer
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (a, int(port or 0), 0, 0) if ":" in a else (a, int(port or 0)),
                )
                for a in addresses
            ]
        return real_getaddrinfo(host, port, family, type, proto, flags)

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise OSError(errno.ENETUNREACH, f"test network: {address[0]} is off-limits")
        return real_connect(sock, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield lookups
    finally:
        socket.getaddrinfo = real_getaddrinfo  # type: ignore[assignment]
        socket.socket.connect = real_connect  # type: ignore[method-assign]


class EchoRemote(_Server):
    """A remote API on 127.0.0.1 that repeats back the values of every header it got
    (under names no redactor would guess) and issues OAuth 2.0 tokens.

    ``POST /oauth/token`` grants a fresh access token (client credentials); any other
    path answers ``status`` with ``{"values": [header values…], "query": "…"}``.
    ``with EchoRemote() as remote:`` runs it for the block.
    """

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.issued: list[str] = []
        self.seen: list[dict] = []

    def __enter__(self) -> EchoRemote:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def handle(self, handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path, _, query = handler.path.partition("?")
        self.seen.append(
            {"path": path, "query": query, "headers": dict(handler.headers),
             "body": body.decode("utf-8", "replace")}
        )  # fmt: skip
        if path == "/oauth/token":
            token = f"access-token-canary-{len(self.issued) + 1}"
            self.issued.append(token)
            self.reply(handler, 200, {"access_token": token, "token_type": "Bearer"})
        else:
            values = list(handler.headers.values())
            self.reply(handler, self.status, {"values": values, "query": query})
