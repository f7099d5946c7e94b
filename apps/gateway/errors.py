"""The gateway's one error type: an outbound call that did not give what was asked."""

from __future__ import annotations


class GatewayError(Exception):
    """A call failed for good (after its retries), or could not be made at all.

    The message says what failed and where — method, URL (secrets removed),
    HTTP status and an excerpt of the answer — and never holds a secret.
    ``code`` is stable, for programs: ``http_error``, ``timeout``,
    ``connection_error``, ``malformed_json``, ``pagination_loop``,
    ``missing_placeholder``, ``template_error``, ``denied_destination``,
    ``unsupported_url``, ``no_connection``, ``authorization``, ``request_error``.
    """

    default_code = "gateway_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        method: str = "",
        url: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.method = method
        self.url = url
        self.status = status
        self.body = ""  # an HTTP error's answer, secrets hidden (an excerpt)

    def __str__(self) -> str:
        return self.message
