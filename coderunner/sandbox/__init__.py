"""The sandbox that runs user algorithms (Python source) safely, with RestrictedPython.

An algorithm's source is the body of a function: its parameters are local
names and ``return`` gives the result::

    compiled = compile_algorithm("return a + b", name="add", parameters=["a", "b"])
    compiled.run(arguments={"a": 1, "b": 2}, api=api, time_limit=10.0)  # 3
    compiled.last_output  # what it printed (this thread's last run)

The code may use ``api`` (public attributes and methods only), the modules of
``ALLOWED_MODULES`` once imported, and safe builtins; ``print`` is captured.
What it may not do — imports outside the allowlist, ``_private`` and dunder
attributes, ``open``/``eval``/``exec``/..., changing objects it does not own,
building huge values, running past its time limit — is a
:class:`SandboxError` with a stable ``code`` and the user's line number,
never a crash of the host. ``policy.py`` (compile time), ``guards.py``
(names, attributes, sizes, modules) and ``runtime.py`` (time limit, errors)
say exactly what is covered and what is not.
"""

from .errors import SandboxError
from .modules import ALLOWED_MODULES
from .policy import compile_algorithm
from .runtime import CompiledAlgorithm, RunResult

__all__ = ["ALLOWED_MODULES", "CompiledAlgorithm", "RunResult", "SandboxError", "compile_algorithm"]
