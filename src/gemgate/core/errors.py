"""One error hierarchy carrying a canonical code and the offending field.

Each dialect has one function that turns a GemgateError into its own envelope.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Google's canonical codes, with the HTTP status each one maps to."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_FOUND = "NOT_FOUND"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    Code.INVALID_ARGUMENT: 400,
    Code.UNAUTHENTICATED: 401,
    Code.PERMISSION_DENIED: 403,
    Code.NOT_FOUND: 404,
    Code.FAILED_PRECONDITION: 400,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.DEADLINE_EXCEEDED: 504,
    Code.UNAVAILABLE: 503,
    Code.INTERNAL: 500,
}


class GemgateError(Exception):
    code: Code = Code.INTERNAL

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(GemgateError):
    code = Code.INVALID_ARGUMENT


class Unauthenticated(GemgateError):
    code = Code.UNAUTHENTICATED


class PermissionDenied(GemgateError):
    code = Code.PERMISSION_DENIED


class NotFound(GemgateError):
    code = Code.NOT_FOUND


class FailedPrecondition(GemgateError):
    code = Code.FAILED_PRECONDITION


class ResourceExhausted(GemgateError):
    code = Code.RESOURCE_EXHAUSTED


class QuotaExceeded(ResourceExhausted):
    """A key's limit is used up: which one (`quota_id`, its value) and when to retry.

    `retry_after` is None when waiting will not help (a spent budget).
    """

    def __init__(
        self, message: str, *, quota_id: str, limit: float, retry_after: float | None
    ) -> None:
        super().__init__(message, field=None)
        self.quota_id = quota_id
        self.limit = limit
        self.retry_after = retry_after


class Unavailable(GemgateError):
    code = Code.UNAVAILABLE


class Internal(GemgateError):
    code = Code.INTERNAL


class DeadlineExceeded(GemgateError):
    code = Code.DEADLINE_EXCEEDED


_CODE_OF_STATUS = {
    400: Code.INVALID_ARGUMENT,
    # The upstream refusing gemgate's own credential is not the caller's fault.
    401: Code.INTERNAL,
    403: Code.INTERNAL,
    404: Code.NOT_FOUND,
    408: Code.DEADLINE_EXCEEDED,
    409: Code.FAILED_PRECONDITION,
    429: Code.RESOURCE_EXHAUSTED,
    500: Code.INTERNAL,
    502: Code.UNAVAILABLE,
    503: Code.UNAVAILABLE,
    504: Code.DEADLINE_EXCEEDED,
}


class UpstreamError(GemgateError):
    """An upstream answered with an error, or not at all.

    `status` is the upstream's HTTP status; a lost connection is 502 and a timeout 504 (what
    a gateway answers for them). The canonical code follows the status, so a caller sees what
    the provider said.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        retry_after: float | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.status = status
        self.retry_after = retry_after
        fallback = Code.UNAVAILABLE if status >= 500 else Code.INVALID_ARGUMENT
        self.code = _CODE_OF_STATUS.get(status, fallback)

    @property
    def retryable(self) -> bool:
        """Worth another attempt: rate limits, server errors, timeouts and lost connections."""
        return self.status in (408, 429) or self.status >= 500
