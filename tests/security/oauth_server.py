"""A real HTTP server on 127.0.0.1 playing the remote API and its OAuth servers.

It checks credentials the way real servers do: Basic and bearer headers, API
keys in a header or the query, OAuth 1.0a HMAC-SHA1 signatures (verified by
oauthlib's server side) and an OAuth 2.0 token endpoint with the
client-credentials, refresh-token and authorization-code grants.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint


@dataclass
class Credentials:
    """What the remote side accepts (all secrets, distinct so leaks are detectable)."""

    username: str = "api-user"
    password: str = "basic-pass-Secret-1"
    bearer_token: str = "bearer-token-Secret-2"
    key_name: str = "X-Api-Key"
    key_value: str = "api-key-Secret-3"
    client_id: str = "client-id-1"
    client_secret: str = "client-secret-Secret-4"
    consumer_key: str = "consumerkey0001"
    consumer_secret: str = "consumersecretSecret5"
    oauth_token: str = "accesstoken0001"
    oauth_token_secret: str = "tokensecretSecret6"


class _OAuth1Validator(RequestValidator):
    """Accepts exactly the consumer and token of ``Credentials``."""

    enforce_ssl = False  # a local test server speaks plain HTTP
    client_key_length = access_token_length = nonce_length = (3, 100)
    dummy_client = "dummyclient"
    dummy_access_token = "dummytoken"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self.credentials = credentials
        self.nonces: set[tuple[str, str]] = set()

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, **kwargs):
        if (timestamp, nonce) in self.nonces:  # a replayed request
            return False
        self.nonces.add((timestamp, nonce))
        return True

    def validate_client_key(self, client_key, request):
        return client_key == self.credentials.consumer_key

    def get_client_secret(self, client_key, request):
        return (
            self.credentials.consumer_secret
            if self.validate_client_key(client_key, request)
            else "x"
        )

    def get_access_token_secret(self, client_key, token, request):
        return self.credentials.oauth_token_secret if token == self.credentials.oauth_token else "x"


@dataclass
class RemoteApi:
    """The server's state; tests read and change it between requests."""

    credentials: Credentials = field(default_factory=Credentials)
    expires_in: int = 3600
    rotate_refresh_tokens: bool = True
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    token_requests: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(
        default_factory=lambda: [{"id": i, "name": f"contact {i}"} for i in range(1, 6)]
    )
    base_url: str = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def issue_code(self, redirect_uri: str) -> str:
        """What the provider's consent page does when the user says yes."""
        code = "code-" + secrets.token_hex(8)
        self.codes[code] = redirect_uri
        return code

    def revoke_access_tokens(self) -> None:
        self.access_tokens.clear()

    def new_tokens(self, *, with_refresh: bool) -> dict:
        access = "access-" + secrets.token_hex(8)
        self.access_tokens.add(access)
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in}
        if with_refresh:
            refresh = "refresh-" + secrets.token_hex(8)
            self.refresh_tokens.add(refresh)
            answer["refresh_token"] = refresh
        return answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):
        pass  # silent: the access log would print URLs that hold secrets

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length).decode() if length else ""
        self.url = urlsplit(self.path)
        self.query = {k: v[0] for k, v in parse_qs(self.url.query).items()}
        api = self.server.api
        checks = {
            "/protected/basic": self.basic_ok,
            "/protected/bearer": lambda: self.bearer_ok(api.credentials.bearer_token),
            "/protected/api-key-header": lambda: (
                self.headers.get(api.credentials.key_name) == api.credentials.key_value
            ),
            "/protected/api-key-query": lambda: (
                self.query.get(api.credentials.key_name) == api.credentials.key_value
            ),
            "/protected/oauth1": self.oauth1_ok,
            "/protected/oauth2": lambda: any(self.bearer_ok(t) for t in list(api.access_tokens)),
        }
        path = self.url.path
        if path == "/protected/oauth1/contacts":
            self.oauth1_contacts()
        elif path == "/oauth/token":
            self.token_endpoint()
        elif path == "/oauth/authorize":  # the user says yes at once
            self.consent()
        elif path in checks:
            ok = checks[path]()
            self.reply(200 if ok else 401, {"ok": ok, "path": path, "query": self.query})
        else:
            self.reply(404, {"error": "not found"})

    def oauth1_contacts(self) -> None:
        """Pages of contacts for OAuth 1.0a-signed requests only (each page a fresh nonce)."""
        if not self.oauth1_ok():
            self.reply(401, {"error": "invalid OAuth 1.0a signature"})
            return
        page, size = int(self.query.get("page", "1")), int(self.query.get("per_page", "2"))
        contacts = self.server.api.contacts[(page - 1) * size : page * size]
        self.reply(200, {"data": contacts, "more": page * size < len(self.server.api.contacts)})

    def consent(self) -> None:
        redirect_uri = self.query.get("redirect_uri", "")
        code = self.server.api.issue_code(redirect_uri)
        self.send_response(302)
        self.send_header("Location", f"{redirect_uri}?code={code}&state={self.query.get('state')}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def bearer_ok(self, token: str) -> bool:
        header = self.headers.get("Authorization", "")
        return header.endswith(f" {token}") and header.count(" ") >= 1

    def basic_ok(self) -> bool:
        c = self.server.api.credentials
        expected = base64.b64encode(f"{c.username}:{c.password}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def oauth1_ok(self) -> bool:
        host = self.headers["Host"]
        valid, _ = self.server.oauth1.validate_request(
            f"http://{host}{self.path}", self.command, self.body or None, dict(self.headers)
        )
        return valid

    def client_authenticated(self, form: dict) -> str | None:
        """'basic' or 'body' when the client proved itself one way, else None."""
        c = self.server.api.credentials
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return "basic" if (user, password) == (c.client_id, c.client_secret) else None
        if (form.get("client_id"), form.get("client_secret")) == (c.client_id, c.client_secret):
            return "body"
        return None

    def token_endpoint(self) -> None:
        api = self.server.api
        form = dict(parse_qsl(self.body)) if self.command == "POST" else dict(self.query)
        method = self.client_authenticated(form)
        api.token_requests.append({**form, "client_auth": method, "http_method": self.command})
        if method is None:
            self.reply(401, {"error": "invalid_client"})
            return
        grant = form.get("grant_type")
        if grant == "client_credentials":
            self.reply(200, api.new_tokens(with_refresh=False))
        elif grant == "refresh_token" and form.get("refresh_token") in api.refresh_tokens:
            if api.rotate_refresh_tokens:
                api.refresh_tokens.discard(form["refresh_token"])
            self.reply(200, api.new_tokens(with_refresh=api.rotate_refresh_tokens))
        elif grant == "authorization_code" and api.codes.get(form.get("code")) == form.get(
            "redirect_uri"
        ):
            del api.codes[form["code"]]
            self.reply(200, api.new_tokens(with_refresh=True))
        else:
            self.reply(400, {"error": "invalid_grant", "error_description": f"bad {grant}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: RemoteApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.oauth1 = SignatureOnlyEndpoint(_OAuth1Validator(api.credentials))


class OAuthServer:
    """``with OAuthServer() as api:`` runs the server in a thread for the block."""

    def __enter__(self) -> RemoteApi:
        self.api = RemoteApi()
        self.server = _Server(self.api)
        host, port = self.server.server_address[:2]
        self.api.base_url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        return self.api

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
