"""The runner process: where user code runs, holding nothing worth stealing.

The platform starts it (``coderunner.host``) inside bubblewrap — its own
network, PID, IPC and mount namespaces, a read-only view of the interpreter
and libraries only, an empty scratch directory, no environment, as the
unprivileged user ``nobody`` — or, where bubblewrap cannot run, with what the
OS still gives (see ``host.py``). This module then, before it reads any job:

* drops what the fallback could not drop before starting it (the network, root),
* puts OS limits on itself: address space (memory), CPU time, open files,
  processes (none: no fork, no threads), file size, no core dumps;
* moves the protocol off fds 0 and 1, so that nothing printed by C code can
  corrupt a frame, and closes every other descriptor.

Then it answers jobs until its pipe closes. The CPU limit is set again before
each job (what it has used + the job's time limit): a job past it is killed
by the kernel (SIGXCPU). A job that runs out of memory is answered with a
``memory`` error, and the runner retires (exits) rather than go on in a
doubtful state.

This module and everything it imports are the platform-independent part of
the project: nothing here imports Django or ``apps``.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
import warnings
from typing import Any

from .api import Channel, HostAbort
from .jobs import HANDLERS, JobError
from .protocol import ProtocolError, encode, write_frame

NOBODY = 65534
# Exit statuses the platform reads when the runner could not answer.
EXIT_MEMORY = 70
EXIT_PROTOCOL = 71
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_PR_SET_PDEATHSIG = 1


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _drop(config: dict) -> list[str]:
    """The fallback's own isolation; returns what it could not do."""
    missing = []
    if config.get("parent_death_signal"):
        import signal

        _libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != config.get("parent_pid", os.getppid()):
            os._exit(0)  # the platform died before the signal was armed
    if config.get("unshare_network"):
        libc = _libc()
        # Root may unshare the network; others only inside a user namespace of their own.
        flags = _CLONE_NEWNET if os.getuid() == 0 else _CLONE_NEWNET | _CLONE_NEWUSER
        if libc.unshare(flags) != 0:
            missing.append("own network namespace")
    if config.get("drop_to_nobody") and os.getuid() == 0:
        _preload()
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    if os.getuid() == 0:
        missing.append("unprivileged user (the interpreter is not readable by nobody)")
    return missing


def _preload() -> None:
    """What jobs import on first use — codecs (Jinja's lexer decodes string literals with
    ``unicode-escape``), ``_strptime`` — loaded while the interpreter's files can still be
    read: as nobody they may not be (an interpreter installed in root's private home)."""
    import encodings
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(encodings.__path__):
        try:
            importlib.import_module(f"encodings.{module.name}")
        except ImportError:  # mbcs, oem: Windows only
            continue
    import _strptime  # noqa: F401 - datetime.strptime


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def _set_limits(config: dict) -> None:
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, int(config.get("file_bytes", 16 << 20)))
    _limit(resource.RLIMIT_NOFILE, 64)
    # The CPU budget of the runner's whole life; each job gets a soft limit inside it.
    cpu = int(config.get("cpu_seconds", 3600))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    _limit(resource.RLIMIT_AS, int(config["memory_bytes"]))
    if os.getuid() != 0:  # root ignores it; nobody gets no processes and no threads
        _limit(resource.RLIMIT_NPROC, 0)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _arm_cpu_limit(time_limit: float) -> bool:
    """Soft CPU limit for the next job; False when the runner's budget is spent."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(_cpu_used() + time_limit) + 2
    if hard != resource.RLIM_INFINITY and soft >= hard:
        return False
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return True


def _protocol_fds() -> tuple[int, int]:
    """The job pipes, moved off 0 and 1 (then /dev/null and stderr), nothing else open."""
    in_fd, out_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    keep = sorted({0, 1, 2, in_fd, out_fd})
    start = 3
    for fd in keep:
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, 1 << 16)
    return in_fd, out_fd


def _answer(channel: Channel, job: dict, config: dict) -> bool:
    """Run one job and answer it; False when the runner should retire afterwards."""
    handler = HANDLERS.get(job.get("job", ""))
    time_limit = float(job.get("time_limit") or config.get("default_time_limit", 10))
    keep = _arm_cpu_limit(time_limit)
    channel.in_job = True
    retire = not keep
    try:
        if handler is None:
            raise JobError(f"Unknown job {job.get('job')!r}.", code="protocol")
        result: dict[str, Any] = {"done": handler(job, channel)}
    except JobError as error:
        result = {"error": error.as_dict()}
    except HostAbort as abort:
        result = {"error": {"message": abort.message, "code": abort.code}}
    except MemoryError:
        result = {"error": _memory_error(config)}
        retire = True
    except RecursionError:
        result = {"error": {"message": "The code recursed too deeply.", "code": "runtime"}}
    except Exception as error:  # a job the handlers did not foresee: an answer all the same
        result = {"error": {"message": f"{type(error).__name__}: {error}", "code": "runtime"}}
    finally:
        gc.collect()  # user objects' __del__ run now, inside the job, not after it
        channel.in_job = False
    if retire:
        result["retire"] = True
    try:
        frame = encode(result)
    except MemoryError:
        frame = encode({"error": _memory_error(config), "retire": True})
        retire = True
    except Exception as error:  # not JSON, or user code run by the encoder (a dict's items())
        frame = encode({"error": _unencodable(error), **({"retire": True} if retire else {})})
    if len(frame) > channel.max_frame:
        size = len(frame)
        frame = encode(
            {
                "error": {
                    "message": f"The result is {size / 2**20:.1f} MiB, more than the limit of "
                    f"{channel.max_frame / 2**20:.0f} MiB.",
                    "code": "output_limit",
                }
            }
        )
    write_frame(channel.out_fd, frame)
    return not retire


def _memory_error(config: dict) -> dict:
    limit = int(config["memory_bytes"]) / 2**20
    return {"message": f"Memory limit of {limit:g} MiB exceeded.", "code": "memory"}


def _unencodable(error: Exception) -> dict:
    if isinstance(error, RecursionError):
        message = "The result is nested too deeply to be JSON."
    elif isinstance(error, UnicodeEncodeError):
        message = "The result holds text that is not valid Unicode (a lone surrogate)."
    elif isinstance(error, TypeError | ValueError):
        message = f"The result is not JSON: {error}."
    else:
        message = f"The result could not be made JSON: {type(error).__name__}: {error}"[:1000]
    return {"message": message, "code": "invalid_result"}


def main(argv: list[str] | None = None) -> None:
    config = json.loads((argv or sys.argv)[1]) if len(argv or sys.argv) > 1 else {}
    missing = _drop(config)
    in_fd, out_fd = _protocol_fds()
    warnings.simplefilter("ignore")  # SyntaxWarnings of user code: not on a pipe nobody reads
    # Modules the standard library loads lazily, loaded once now, before the limits.
    import _strptime  # noqa: F401 - datetime.strptime
    import encodings.idna  # noqa: F401

    import jinja2  # noqa: F401

    _set_limits(config)
    # What is loaded now lives as long as the runner: out of the collector's sight, so
    # that the collection after each job (user objects' __del__) costs little.
    gc.freeze()
    channel = Channel(in_fd, out_fd, max_frame=int(config.get("max_frame", 16 << 20)))
    channel.max_in_frame = int(config["memory_bytes"])  # the platform's jobs: memory bounds them
    ready = {"uid": os.getuid(), "missing": missing, "started": time.time()}
    write_frame(out_fd, encode({"ready": ready}))
    jobs = 0
    limit = int(config.get("jobs", 10_000))
    while True:
        try:
            job = channel.receive()
        except ProtocolError:
            os._exit(0)  # the platform closed the pipe: done
        except MemoryError:
            os._exit(EXIT_MEMORY)
        try:
            keep = _answer(channel, job, config)
        except MemoryError:
            os._exit(EXIT_MEMORY)
        except (OSError, ProtocolError):
            os._exit(EXIT_PROTOCOL)
        jobs += 1
        if not keep or jobs >= limit:
            os._exit(0)
