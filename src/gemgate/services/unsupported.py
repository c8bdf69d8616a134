"""Features the Gemini API has that this server does not serve yet: a clear 400 for each.

Each check names the field, so a caller knows exactly what to drop; nothing is ignored
silently. As features land, their checks leave this module.
"""

from __future__ import annotations

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.types import GenerateRequest
from gemgate.services.models import ResolvedModel

_PLAIN_MIME_TYPES = {None, "", "text/plain"}


def reject_unsupported(request: GenerateRequest, model: ResolvedModel) -> None:
    if request.cached_content:
        raise NotFound(
            f"CachedContent not found (or permission denied): {request.cached_content}",
            field="cachedContent",
        )
    if request.tools:
        raise InvalidArgument(
            f"tools ({request.tools[0].kind}) are not supported by this server yet.",
            field="tools",
        )
    config = request.config
    if config.response_mime_type not in _PLAIN_MIME_TYPES:
        raise InvalidArgument(
            f"generationConfig.responseMimeType {config.response_mime_type!r} is not "
            "supported by this server yet; use text/plain.",
            field="generationConfig.responseMimeType",
        )
    if config.response_schema is not None or config.response_json_schema is not None:
        raise InvalidArgument(
            "generationConfig.responseSchema is not supported by this server yet.",
            field="generationConfig.responseSchema",
        )
    thinking = config.thinking
    if thinking is not None and (
        (thinking.budget is not None and thinking.budget > 0) or thinking.level is not None
    ):
        raise InvalidArgument(
            f"models/{model.requested} cannot think yet: thinking budgets above 0 and "
            "thinking levels are not supported by this server yet.",
            field="generationConfig.thinkingConfig",
        )
