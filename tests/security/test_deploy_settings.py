"""Issue 9.8: production settings. ``manage.py check --deploy`` in production mode finds
nothing left, and a production process answers as those settings say: http redirected
to https, HSTS, the Content-Security-Policy, and X-Forwarded-Proto trusted only when
SECURE_PROXY_SSL_HEADER opts in. (The pages working under the policy in Chromium:
tests/browser/test_content_security_policy.py.)
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    # Not what a deployment has: the browser tests' Playwright needs it in this process.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "PLATFORM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FERNET_KEYS": "Xw1Ai2w0y8IHzNhmL0XBF1qK_LjBfdSDHVG6wLMqOyc=",
        "ALLOWED_HOSTS": "ipaas.example.com",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }


def _manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_check_deploy_finds_nothing_in_production(production_env):
    result = _manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


PROBE = """
import json
from django.test import Client
answers = {}
for name, kwargs in [("http", {}), ("https", {"secure": True}),
                     ("proxied", {"headers": {"X-Forwarded-Proto": "https"}})]:
    r = Client(HTTP_HOST="ipaas.example.com").get("/api/v2/setup/namespace/", **kwargs)
    answers[name] = {"status": r.status_code, "location": r.get("Location", ""),
                     "hsts": r.get("Strict-Transport-Security", ""),
                     "csp": r.get("Content-Security-Policy", "")}
print(json.dumps(answers))
"""


def _probe(env) -> dict:
    result = _manage(env, "shell", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_answers_with_https_hsts_and_the_policy(production_env):
    answers = _probe(production_env)
    assert answers["http"]["status"] == 301
    assert answers["http"]["location"].startswith("https://ipaas.example.com/")
    https = answers["https"]
    assert https["status"] == 401  # served (no credentials), not redirected
    assert https["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in https["csp"] and "script-src 'self'" in https["csp"]
    assert "frame-ancestors 'none'" in https["csp"] and "unsafe-eval" not in https["csp"]
    # X-Forwarded-Proto is anyone's to send: not trusted unless opted in.
    assert answers["proxied"]["status"] == 301


def test_a_tls_proxy_is_trusted_only_when_opted_in(production_env):
    answers = _probe({**production_env, "SECURE_PROXY_SSL_HEADER": "1"})
    assert answers["proxied"]["status"] == 401 and answers["proxied"]["hsts"]
    assert answers["http"]["status"] == 301
