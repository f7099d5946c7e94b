"""What a runner process can see and do: the OS layer of the sandbox (DESIGN §6).

A probe program is started exactly as runners are (the same bubblewrap or
fallback command, the same hardening code of ``coderunner.server``) and
reports what it finds. It runs plain Python, without the RestrictedPython
layer: this is what code that broke out of the language sandbox would get.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from django.conf import settings

from coderunner.host import isolation
from coderunner.host.isolation import MOUNT_POINT, bwrap_argv, detect, fallback_command

ROOT = Path(__file__).resolve().parents[2]
ROOT_USER = os.geteuid() == 0

PROBE = r"""
import json, os, socket, sys
sys.path[:0] = [{path!r}, *{sites!r}]
from coderunner import server
config = json.loads(sys.argv[1])
missing = server._drop(config)
in_fd, out_fd = server._protocol_fds()
server._set_limits(config)
import resource
facts = {{"missing": missing}}
facts["env"] = dict(os.environ)
facts["uid"], facts["gid"], facts["groups"] = os.getuid(), os.getgid(), os.getgroups()
facts["cwd"], facts["cwd_listing"] = os.getcwd(), os.listdir(".")
open("scratch.txt", "w").write("scratch is writable")
facts["root_listing"] = sorted(os.listdir("/"))
fds = []
for fd in range(1024):
    try:
        os.fstat(fd)
        fds.append(fd)
    except OSError:
        pass
facts["fds"], facts["protocol_fds"] = fds, [in_fd, out_fd]
def attempt(action):
    try:
        action()
        return "ok"
    except BaseException as error:
        return type(error).__name__ + ": " + str(error)
facts["project"] = attempt(lambda: open({root!r} + "/manage.py").read())
facts["secret_key"] = attempt(lambda: open({secret!r}).read())
facts["canary"] = attempt(lambda: open({canary!r}).read())
facts["connect"] = attempt(lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
facts["connect_out"] = attempt(lambda: socket.create_connection(("203.0.113.5", 80), timeout=2))
facts["write_usr"] = attempt(lambda: open(sys.prefix + "/probe.txt", "w"))
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
facts["fork"] = attempt(fork)
import threading
facts["thread"] = attempt(lambda: threading.Thread(target=print).start())
facts["import_apps"] = attempt(lambda: __import__("apps.security.models"))
facts["django_settings"] = os.environ.get("DJANGO_SETTINGS_MODULE")
import coderunner.jobs, coderunner.api
platform = ("django", "apps", "config")
facts["platform_modules"] = sorted(m for m in sys.modules if m.split(".")[0] in platform)
facts["limits"] = {{name: resource.getrlimit(getattr(resource, name))[1]
                    for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_NOFILE",
                                 "RLIMIT_FSIZE", "RLIMIT_CORE")}}
facts["memory"] = attempt(lambda: bytearray(600 << 20))
os.write(out_fd, json.dumps(facts).encode())
"""


@pytest.fixture
def listener():
    """A TCP listener on loopback that counts the connections it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append(connection)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.fixture
def canary(tmp_path):
    path = tmp_path / "canary.txt"
    secret = os.urandom(16).hex()
    path.write_text(secret)
    path.chmod(0o644)  # readable by anyone who can see it: only the sandbox stops a read
    return path, secret


CONFIG = {"memory_bytes": 256 << 20, "cpu_seconds": 60}


def probe(argv: list[str], cwd: str, env_canary: str) -> dict:
    done = subprocess.run(
        argv,
        capture_output=True,
        cwd=cwd,
        env={},  # what the pool gives: nothing (the canary is in this process's env)
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    facts = json.loads(done.stdout)
    assert env_canary not in json.dumps(facts)
    return facts


def program(path: str, port: int, canary_path: Path, config: dict = CONFIG) -> list[str]:
    source = PROBE.format(
        path=path,
        root=str(ROOT),
        secret=str(settings.DATA_DIR / "secret_key"),
        canary=str(canary_path),
        port=port,
        sites=isolation._site_dirs(),
    )
    return [*isolation.boot(path)[:-1], source, json.dumps(config)]


@pytest.fixture
def env_canary(monkeypatch):
    secret = os.urandom(16).hex()
    monkeypatch.setenv("IPAAS_CANARY", secret)
    return secret


def assert_limits(facts: dict) -> None:
    limits = facts["limits"]
    assert limits["RLIMIT_AS"] == CONFIG["memory_bytes"]
    assert limits["RLIMIT_CPU"] == CONFIG["cpu_seconds"]
    assert limits["RLIMIT_CORE"] == 0
    assert limits["RLIMIT_NOFILE"] <= 64
    assert facts["memory"].startswith("MemoryError")  # 600 MiB past a 256 MiB limit


def test_a_bubblewrap_runner_holds_nothing_worth_stealing(listener, canary, env_canary):
    found = detect("auto")
    assert found.mode == "bwrap", f"bubblewrap must run here (make test installs it): {found}"
    port, accepted = listener
    canary_path, secret = canary
    argv = bwrap_argv(CONFIG, program=program(MOUNT_POINT, port, canary_path))
    facts = probe(argv, "/", env_canary)
    assert facts["missing"] == []
    # No secrets, no database or broker URL: what bwrap sets and Python's locale coercion.
    assert set(facts["env"]) <= {"LANG", "HOME", "PWD", "LC_CTYPE"}
    if ROOT_USER:
        assert (facts["uid"], facts["gid"], facts["groups"]) == (65534, 65534, [])
    assert facts["cwd"] == "/scratch" and facts["cwd_listing"] == []  # an empty scratch folder
    # Only the interpreter, its libraries and the runner's own code are there.
    top = {Path(path).parts[1] for path in isolation._read_only_paths()}
    assert set(facts["root_listing"]) <= top | {"bin", "dev", "lib", "lib64", "opt", "sbin",
                                                 "scratch"}  # fmt: skip
    assert facts["project"].startswith("FileNotFoundError")  # the platform's code: not there
    assert facts["secret_key"].startswith("FileNotFoundError")
    assert facts["canary"].startswith("FileNotFoundError") and secret not in json.dumps(facts)
    assert facts["connect"].startswith(("ConnectionRefusedError", "OSError"))  # own network
    assert facts["connect_out"].startswith("OSError")  # no route anywhere
    assert accepted == []
    assert "Read-only file system" in facts["write_usr"] or "Permission" in facts["write_usr"]
    assert facts["fds"] == [0, 1, 2, *sorted(facts["protocol_fds"])]  # nothing inherited
    if ROOT_USER:  # nobody may not fork or start threads
        assert facts["fork"].startswith(("BlockingIOError", "OSError", "PermissionError"))
        assert "can't start new thread" in facts["thread"] or "Error" in facts["thread"]
    assert facts["import_apps"].startswith("ModuleNotFoundError")
    assert facts["django_settings"] is None and facts["platform_modules"] == []
    assert_limits(facts)


def test_the_fallback_still_drops_what_the_os_allows(listener, canary, env_canary):
    port, accepted = listener
    canary_path, _ = canary
    command = fallback_command(CONFIG)
    try:
        path_dir = command.cleanup[1]
        config = json.loads(command.argv[-1])  # with the fallback's own instructions
        argv = program(path_dir, port, canary_path, config)
        facts = probe(argv, command.cwd, env_canary)
    finally:
        for folder in command.cleanup:
            subprocess.run(["rm", "-rf", folder], check=False)
    assert set(facts["env"]) <= {"LC_CTYPE"}  # Python's own locale coercion, nothing else
    assert facts["cwd_listing"] == []
    assert facts["fds"] == [0, 1, 2, *sorted(facts["protocol_fds"])]
    assert facts["import_apps"].startswith("ModuleNotFoundError")  # the project is not on its path
    assert facts["platform_modules"] == []
    if ROOT_USER:  # root can unshare the network...
        assert facts["connect"].startswith(("OSError", "ConnectionRefusedError"))
        assert accepted == []
        if json.loads(command.argv[-1])["drop_to_nobody"]:  # ...and become nobody
            assert facts["missing"] == []
            assert (facts["uid"], facts["groups"]) == (65534, [])
            assert facts["fork"].startswith(("BlockingIOError", "OSError", "PermissionError"))
        else:  # a Python under /root: nobody could not even import
            assert facts["missing"] == [
                "unprivileged user (the interpreter is not readable by nobody)"
            ]
    assert_limits(facts)


def test_the_runner_package_imports_nothing_of_django_or_the_platform():
    package = Path(isolation.__file__).resolve().parent.parent
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"django", "apps", "config", "rest_framework"}, (
                    f"{path.relative_to(package)} imports {name}"
                )


def test_weaker_isolation_is_announced_by_the_system_check(settings):
    from apps.runners.checks import check_isolation

    settings.RUNNER_ISOLATION = "fallback"
    (warning,) = check_isolation()
    assert warning.id == "runners.W001" and "fallback" in warning.msg
    assert "bubblewrap" in warning.hint
    settings.PRODUCTION = True
    (error,) = check_isolation()
    assert error.id == "runners.E001"  # loudly in production: the platform does not start
    settings.RUNNER_ALLOW_WEAK_ISOLATION = True
    assert [found.id for found in check_isolation()] == ["runners.W001"]


def test_out_of_bounds_runner_settings_are_errors(settings):
    from apps.runners.checks import check_limits

    settings.RUNNER_MEMORY_MB = 1
    settings.RUNNER_TIME_LIMIT_DEFAULT = 500
    ids = sorted(found.id for found in check_limits())
    assert ids == ["runners.E002", "runners.E003"]
