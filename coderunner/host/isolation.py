"""How a runner process is started: inside bubblewrap, or with what the OS still gives.

``bwrap`` mode (Debian's ``bubblewrap``): new network, PID, IPC, UTS and mount
namespaces; the only files are read-only binds of ``/usr``, the interpreter's
prefix, the virtualenv and this package, plus a small tmpfs as ``/scratch`` (the
scratch directory) and a minimal ``/dev``; no environment; the process dies
with its parent; as root, ``setpriv`` then drops to ``nobody`` with no
capabilities (without root, bubblewrap maps the user into its own user
namespace). The runner then limits itself (``server.py``).

``fallback`` mode, where bubblewrap is missing or cannot run: a clean
environment, no inherited descriptors, a fresh scratch directory, and the
runner itself unshares the network and drops to ``nobody`` when it starts as
root (without root it keeps the user it has, and the network). The OS limits
are the same. :func:`detect` says which mode applies and what is missing, for
the system check and the start-up warning.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../coderunner
MOUNT_POINT = "/opt/coderunner"
# The runner's empty, writable folder: not /tmp, where a project (and so the
# virtualenv that is bound read-only) may well live.
SCRATCH = "/scratch"
# ``python -I -S``: no environment, no user site, and no ``site`` module — so no
# ``.pth`` files, among them the editable install's finder that would make the
# platform's own packages importable. The libraries' folders are put on the path.
BOOT = (
    "import sys; sys.path[:0] = [{path!r}, *{sites!r}]; "
    "from coderunner.server import main; main(sys.argv)"
)


def _site_dirs() -> list[str]:
    return [p for p in sys.path if p.endswith("-packages") and os.path.isdir(p)]


def boot(path: str) -> list[str]:
    """The interpreter's arguments that start the runner with ``path`` holding ``coderunner``."""
    return [_python(), "-I", "-S", "-c", BOOT.format(path=path, sites=_site_dirs())]


@dataclass(frozen=True)
class Isolation:
    """The mode runners start in, and what it lacks compared with bubblewrap's."""

    mode: str  # "bwrap" or "fallback"
    missing: tuple[str, ...] = ()
    reason: str = ""

    @property
    def complete(self) -> bool:
        return self.mode == "bwrap" and not self.missing


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 256 << 20
    max_output_bytes: int = 16 << 20
    scratch_bytes: int = 16 << 20
    cpu_seconds: int = 3600
    jobs: int = 10_000


@dataclass
class Command:
    argv: list[str]
    cwd: str
    cleanup: list[str] = field(default_factory=list)


def _parents(path: str) -> list[str]:
    parts = Path(path).parts
    return [str(Path(*parts[: i + 1])) for i in range(1, len(parts) - 1)]


def _read_only_paths() -> list[str]:
    """The interpreter, its libraries and the virtualenv: what a runner may read."""
    paths = ["/usr"]
    for prefix in (sys.base_prefix, sys.prefix, sys.exec_prefix):
        resolved = str(Path(prefix).resolve())
        if not any(resolved == p or resolved.startswith(p + "/") for p in paths):
            paths.append(resolved)
    for entry in _site_dirs():
        resolved = str(Path(entry).resolve())
        if not any(resolved == p or resolved.startswith(p + "/") for p in paths):
            paths.append(resolved)
    return paths


def _python() -> str:
    return sys.executable


def bwrap_argv(config: dict, *, program: list[str] | None = None) -> list[str]:
    bwrap = shutil.which("bwrap") or "bwrap"
    argv = [
        bwrap,
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--die-with-parent", "--new-session",
    ]  # fmt: skip
    root = os.geteuid() == 0
    if not root:
        argv += ["--unshare-user"]
    made = set()
    binds = _read_only_paths()
    mounts = [*binds, f"{MOUNT_POINT}/coderunner"]
    for path in mounts:
        for parent in _parents(path):
            inside_bind = any(parent == b or parent.startswith(b + "/") for b in binds)
            if parent not in made and not inside_bind:
                argv += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for path in binds:
        argv += ["--ro-bind", path, path]
    argv += ["--ro-bind", str(PACKAGE_DIR), f"{MOUNT_POINT}/coderunner"]
    for name in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(name):
            argv += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name) and name not in binds:
            argv += ["--ro-bind", name, name]
    argv += [
        "--dev", "/dev",
        "--size", str(int(config.get("scratch_bytes", 16 << 20))), "--perms", "01777",
        "--tmpfs", SCRATCH, "--chdir", SCRATCH,
        "--clearenv", "--setenv", "LANG", "C.UTF-8", "--setenv", "HOME", SCRATCH,
    ]  # fmt: skip
    setpriv = shutil.which("setpriv")
    if root and setpriv:
        argv += ["--", setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]  # fmt: skip
    elif root:
        argv += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--"]
    else:
        argv += ["--"]
    if program is None:
        program = [*boot(MOUNT_POINT), json.dumps(config)]
    return [*argv, *program]


def fallback_command(config: dict) -> Command:
    scratch = tempfile.mkdtemp(prefix="coderunner-")
    # The runner's sys.path gets a folder holding only a link to this package, not
    # the project's root (where the platform's code and DATA_DIR are).
    path_dir = tempfile.mkdtemp(prefix="coderunner-path-")
    os.symlink(PACKAGE_DIR, os.path.join(path_dir, "coderunner"))
    os.chmod(path_dir, 0o755)  # noqa: S103 - readable by nobody, who runs the code
    # Dropping to nobody only works if nobody can read the interpreter and the libraries
    # (a Python installed under /root cannot be read by anyone else).
    drop = os.geteuid() == 0 and all(map(_readable_by_others, _read_only_paths()[1:]))
    if drop:
        os.chown(scratch, 65534, 65534)
    config = {
        **config,
        "unshare_network": True,
        "drop_to_nobody": drop,
        "parent_death_signal": True,
        "parent_pid": os.getpid(),
    }
    argv = [*boot(path_dir), json.dumps(config)]
    return Command(argv=argv, cwd=scratch, cleanup=[scratch, path_dir])


def _readable_by_others(path: str) -> bool:
    """Can a user other than the owner (and not in its group) reach and read ``path``?"""
    current = Path(path).resolve()
    for folder in [current, *current.parents]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001 or (folder == current and not mode & 0o004):
            return False
    return True


def command(mode: str, config: dict) -> Command:
    if mode == "bwrap":
        return Command(argv=bwrap_argv(config), cwd="/")
    return fallback_command(config)


@lru_cache(maxsize=4)
def detect(requested: str = "auto") -> Isolation:
    """Which mode runners start in here: ``requested`` is auto, bwrap or fallback."""
    if requested == "fallback":
        return _fallback("RUNNER_ISOLATION is set to fallback")
    if shutil.which("bwrap") is None:
        return _fallback("bubblewrap (bwrap) is not installed")
    probe = bwrap_argv({}, program=[_python(), "-I", "-c", "import jinja2, RestrictedPython"])
    try:
        done = subprocess.run(probe, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return _fallback(f"bubblewrap did not start: {error}")
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        return _fallback(f"bubblewrap cannot run here: {reason[-1] if reason else done.returncode}")
    missing: tuple[str, ...] = ()
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        missing = ("a real unprivileged user (setpriv is missing: a user namespace stands in)",)
    return Isolation("bwrap", missing=missing)


def _fallback(reason: str) -> Isolation:
    missing = ["bubblewrap's read-only file system view", "own PID and mount namespaces"]
    if os.geteuid() != 0:
        missing += ["own network namespace", "unprivileged user"]
    return Isolation("fallback", missing=tuple(missing), reason=reason)
