"""Features the Gemini API has that this server does not serve yet: a clear 400 for each.

Each check names the field, so a caller knows exactly what to drop; nothing is ignored
silently. As features land, their checks leave this module.
"""

from __future__ import annotations

from gemgate.core.errors import NotFound
from gemgate.core.types import GenerateRequest
from gemgate.services.models import ResolvedModel


def reject_unsupported(request: GenerateRequest, model: ResolvedModel) -> None:
    if request.cached_content:
        raise NotFound(
            f"CachedContent not found (or permission denied): {request.cached_content}",
            field="cachedContent",
        )
