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
