"""The sandbox's one public error type, and the violations guards raise inside user code."""

from __future__ import annotations


class SandboxError(Exception):
    """User code that does not compile, breaks a sandbox rule, fails or runs too long.

    ``code`` is stable, for programs: ``syntax`` (not valid Python), ``forbidden``
    (a construct, name, attribute or size the sandbox does not allow), ``import``
    (a module outside the allowlist), ``timeout`` (the time limit passed) and
    ``runtime`` (the code raised an exception). ``message`` says what failed;
    ``line`` is the 1-based line of the user's source it failed on (or None), and
    ``str(error)`` says both: ``"line 3: ZeroDivisionError: division by zero"``.
    ``output`` is what the code printed before it failed.
    """

    def __init__(
        self, message: str, *, code: str, line: int | None = None, output: str = ""
    ) -> None:
        self.message = message
        self.code = code
        self.line = line
        self.output = output
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class NestedAlgorithmError(RuntimeError):
    """An algorithm called through ``api.run`` failed. Its message already says which one,
    where and why ("Algorithm crm.b, line 9: ValueError: …"): an error report shows it as
    it is, without one more "RuntimeError:" per level of the call chain."""

    __module__ = "api"


class SandboxViolation(Exception):
    """Raised by a guard while user code runs; the run reports it as a SandboxError(code)."""

    code = "forbidden"


class ForbiddenAccess(SandboxViolation):
    """A private attribute, a module object, a write to a foreign object, a forbidden call."""


class LimitExceeded(SandboxViolation):
    """An operation would build a value too large to be safe (a memory blow-up)."""


class ForbiddenImport(SandboxViolation, ImportError):
    """An import of a module outside the allowlist (still an ImportError for ``except``)."""

    code = "import"
