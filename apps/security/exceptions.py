"""The one error type of the security app, with stable codes."""

from __future__ import annotations


class AuthorizationError(Exception):
    """Credentials could not be obtained or used.

    The message says what failed and where (the token URL, the HTTP status
    and an excerpt of the answer) and never holds a secret.
    """

    default_code = "authorization_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __str__(self) -> str:
        return self.message
