"""The stage the escape corpus plays on: an attacker, a victim, canaries, and the checks.

* The attacker is a user with change permission on the namespace ``evil`` only;
  every payload goes through the API with the attacker's token.
* The victim namespace ``victim`` (another user's) holds a record and an
  authorization password with random secrets, an algorithm, and a webhook to
  the listener; its row counts must not change.
* Canaries: a world-readable file outside the runner with a random secret, the
  real DATA_DIR keys, an environment variable with a random secret in the
  worker that runs the jobs (a worker of the corpus's own, on its own queue), a
  TCP listener on 127.0.0.1 that must see no connection, and the worker's pid.
* After every payload, :meth:`Stage.check` says which canary was touched; no
  secret may appear in what the attacker can see (the API's answers, their
  namespace's notifications and records, what the sink received).
"""

from __future__ import annotations

import json
import secrets
import socket
import stat
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.test import APIClient

from apps.data import permissions
from apps.data.models import DataType, Namespace, Record
from apps.data.services import data_type_save, records_save
from apps.gateway.services import connection_save, webhook_save
from apps.security.models import Authorization
from apps.security.services import authorization_save
from apps.security.tokens import api_token_create
from apps.workflows.models import Algorithm, Notification
from apps.workflows.services import element_save

if TYPE_CHECKING:
    from .escape_runs import Outcome

ATTACKER_NS, VICTIM_NS = "evil", "victim"
ENV_NAME = "CORPUS_CANARY_SECRET"
QUEUE = "escape-corpus"
# A payload's whole run (save, enqueue, run, answer) ends within this, whatever it does.
WALL_LIMIT = 20.0
ITEM = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections: list[Any] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.connections.append(peer)
            conn.close()

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)


class Sink:
    """A local HTTP server playing the remote API of exports and webhooks: keeps every body."""

    def __init__(self) -> None:
        owner = self
        self.bodies: list[bytes] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                size = int(self.headers.get("Content-Length") or 0)
                owner.bodies.append(self.rfile.read(size))
                answer = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _fingerprint(path: Path) -> tuple:
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, stat.S_IMODE(info.st_mode)


@dataclass
class Canaries:
    """What must stay untouched, and the secrets that must never show."""

    directory: Path
    file: Path
    file_secret: str
    env_secret: str
    files: dict[Path, tuple] = field(default_factory=dict)

    @classmethod
    def plant(cls) -> Canaries:
        directory = Path(tempfile.mkdtemp(prefix="corpus-canary-"))
        directory.chmod(0o755)  # world-readable: only the sandbox stands between it and nobody
        file_secret = f"file-canary-{secrets.token_hex(16)}"
        canary = directory / "canary.txt"
        canary.write_text(file_secret)
        canary.chmod(0o644)
        found = cls(directory, canary, file_secret, f"env-canary-{secrets.token_hex(16)}")
        for path in (canary, settings.DATA_DIR / "secret_key", settings.DATA_DIR / "fernet_key"):
            if path.exists():
                found.files[path] = _fingerprint(path)
        return found

    def secrets(self) -> dict[str, str]:
        found = {"file canary": self.file_secret, "environment canary": self.env_secret}
        for path, (content, _, _) in self.files.items():
            text = content.decode().strip()
            if text and path != self.file:
                found[f"{path.name} of DATA_DIR"] = text
        found["SECRET_KEY"] = settings.SECRET_KEY
        for number, key in enumerate(settings.FERNET_KEYS, 1):
            found[f"FERNET key {number}"] = key
        return found

    def touched(self) -> list[str]:
        return [
            f"{path} changed"
            for path, before in self.files.items()
            if not path.exists() or _fingerprint(path) != before
        ]

    def remove(self) -> None:
        self.file.unlink(missing_ok=True)
        self.directory.rmdir()


@dataclass
class Victim:
    namespace: Namespace
    record_secret: str
    password: str
    counts: dict[str, int] = field(default_factory=dict)
    records: list = field(default_factory=list)

    def snapshot(self) -> tuple[dict[str, int], list]:
        counts = {
            "records": Record.objects.filter(data_type__namespace=self.namespace).count(),
            "data types": DataType.objects.filter(namespace=self.namespace).count(),
            "algorithms": Algorithm.objects.filter(namespace=self.namespace).count(),
            "authorizations": Authorization.objects.filter(namespace=self.namespace).count(),
            "notifications": Notification.objects.filter(namespace=self.namespace).count(),
        }
        records = sorted(
            Record.objects.filter(data_type__namespace=self.namespace).values_list("key", "data")
        )
        return counts, records


def plant_victim(user, listener: Listener) -> Victim:
    namespace = Namespace.objects.create(name=VICTIM_NS, title="Someone else's")
    permissions.grant(user, namespace, change=True)
    victim = Victim(namespace, f"record-secret-{secrets.token_hex(16)}", secrets.token_hex(16))
    vault = data_type_save(namespace=namespace, name="Secret", schema=ITEM)
    records_save(data_type=vault, records=[{"id": 1, "name": victim.record_secret}])
    element_save(model=Algorithm, namespace=namespace, name="steal", code="return 'victim ran'")
    password = authorization_save(
        namespace=namespace, name="vault", kind="basic", username="victor", password=victim.password
    )
    # A call of the victim's webhook would reach the listener: it must never happen.
    connection = connection_save(
        namespace=namespace,
        name="remote",
        base_url=f"http://127.0.0.1:{listener.port}",
        authorization=password,
        max_attempts=1,
    )
    webhook_save(namespace=namespace, name="hook", path="x", method="POST", connection=connection)
    victim.counts, victim.records = victim.snapshot()
    return victim


def plant_attacker(user, sink: Sink) -> Namespace:
    namespace = Namespace.objects.create(name=ATTACKER_NS, title="The attacker's")
    permissions.grant(user, namespace, change=True)
    items = data_type_save(namespace=namespace, name="Item", schema=ITEM)
    data_type_save(namespace=namespace, name="Out", schema={"type": "object"})
    records_save(data_type=items, records=[{"id": i, "name": f"item {i}"} for i in (1, 2, 3)])
    connection = connection_save(
        namespace=namespace, name="sink", base_url=sink.url, max_attempts=1
    )
    webhook_save(namespace=namespace, name="post", path="in", method="POST", connection=connection)
    return namespace


def client_for(user) -> APIClient:
    client = APIClient()
    _, token = api_token_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@dataclass
class Stage:
    client: APIClient
    attacker: Namespace
    victim: Victim
    canaries: Canaries
    listener: Listener
    sink: Sink
    worker: Any
    notes_seen: int = 0  # the last notification of the attacker checked
    bodies_seen: int = 0  # the sink's bodies checked

    def substitute(self, text: str) -> str:
        """The payload with the stage's names: where the canaries are, whom to hit."""
        for token, value in {
            "CANARY_PATH": str(self.canaries.file),
            "DATA_DIR": str(settings.DATA_DIR),
            "LISTENER_PORT": str(self.listener.port),
            "WORKER_PID": str(self.worker.pid),
            "ENV_NAME": ENV_NAME,
        }.items():
            text = text.replace(token, value)
        return text

    def check(self, outcome: Outcome) -> list[str]:
        """Every canary that was touched, as a sentence; [] when all are intact."""
        problems = list(self.canaries.touched())
        if self.worker.poll() is not None:
            problems.append(f"the worker died (status {self.worker.returncode})")
        if self.listener.connections:
            problems.append(f"the listener saw connections: {self.listener.connections}")
        counts, records = self.victim.snapshot()
        if counts != self.victim.counts:
            problems.append(f"the victim's rows changed: {self.victim.counts} -> {counts}")
        if records != self.victim.records:
            problems.append("the victim's records changed")
        late = Record.objects.filter(data_type__namespace=self.attacker, key="late")
        if late.exists():
            problems.append("a record was written after its task had finished")
        # What reached the attacker since the last check (earlier was checked then).
        notes = list(
            Notification.objects.filter(namespace=self.attacker, pk__gt=self.notes_seen).order_by(
                "pk"
            )
        )
        bodies, self.bodies_seen = self.sink.bodies[self.bodies_seen :], len(self.sink.bodies)
        seen = "\n".join(
            [
                *outcome.seen,
                *(f"{n.message} {json.dumps(n.attachment)}" for n in notes),
                *(
                    json.dumps(data)
                    for data in Record.objects.filter(
                        data_type__namespace=self.attacker
                    ).values_list("data", flat=True)
                ),
                *(body.decode(errors="replace") for body in bodies),
            ]
        )
        self.notes_seen = notes[-1].pk if notes else self.notes_seen
        for name, secret in self._secrets().items():
            if secret in seen:
                problems.append(f"the {name} reached the attacker")
        return problems

    def _secrets(self) -> dict[str, str]:
        return {
            **self.canaries.secrets(),
            "victim's record secret": self.victim.record_secret,
            "victim's password": self.victim.password,
        }


def worker_env(canaries: Canaries) -> dict[str, str]:
    return {
        ENV_NAME: canaries.env_secret,
        "RUNNER_TIME_LIMIT_DEFAULT": "1",  # templates, mappings, webhook bodies: 1 s a lot
        "RUNNER_TIME_LIMIT_MAX": "3",  # a whole run, the platform's answers included
        "GATEWAY_DENY_PRIVATE_ADDRESSES": "0",  # the sink is on 127.0.0.1
    }
