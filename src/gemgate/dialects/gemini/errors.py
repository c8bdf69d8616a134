"""GemgateError -> Google's error envelope {"error": {code, message, status, details}}."""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from gemgate.core.errors import Code, GemgateError, InvalidArgument, QuotaExceeded

_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def retry_seconds(error: QuotaExceeded) -> int | None:
    """Whole seconds to wait (at least 1), as Retry-After and retryDelay both carry."""
    if error.retry_after is None:
        return None
    return max(1, math.ceil(error.retry_after))


def _quota_details(error: QuotaExceeded) -> list[dict[str, Any]]:
    violation = {
        "quotaMetric": f"gemgate/{error.quota_id}",
        "quotaId": error.quota_id,
        "quotaValue": f"{error.limit:g}",
        "description": error.message,
    }
    details: list[dict[str, Any]] = [{"@type": _QUOTA_FAILURE, "violations": [violation]}]
    seconds = retry_seconds(error)
    if seconds is not None:
        details.append({"@type": _RETRY_INFO, "retryDelay": f"{seconds}s"})
    return details


def error_body(error: GemgateError) -> dict[str, Any]:
    details: list[dict[str, Any]] = []
    if isinstance(error, QuotaExceeded):
        details = _quota_details(error)
    elif error.code is Code.INVALID_ARGUMENT and error.field == "key":
        details.append(
            {"@type": _ERROR_INFO, "reason": "API_KEY_INVALID", "domain": "googleapis.com"}
        )
    elif error.field:
        details.append(
            {
                "@type": _BAD_REQUEST,
                "fieldViolations": [{"field": error.field, "description": error.message}],
            }
        )
    return {
        "error": {
            "code": error.code.http_status,
            "message": error.message,
            "status": error.code.value,
            "details": details,
        }
    }


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for item in loc:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out


def from_validation_error(exc: ValidationError) -> InvalidArgument:
    """The first problem, named by its field path as the client spelled it."""
    first = exc.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden":
        parent = _dotted(loc[:-1])
        at = f" at '{parent}'" if parent else ""
        return InvalidArgument(
            f'Invalid JSON payload received. Unknown name "{loc[-1]}"{at}: Cannot find field.',
            field=_dotted(loc),
        )
    field = _dotted(loc)
    return InvalidArgument(f"Invalid value at '{field}': {first['msg']}", field=field)
