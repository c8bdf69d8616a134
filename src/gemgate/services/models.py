"""The model registry: which public model ids exist and which local model answers each.

A public id is a local model id, or an alias (Gemini ids real code uses) that points at one.
Dated previews (`gemini-2.5-flash-preview-04-17`), numbered versions (`gemini-2.0-flash-001`)
and the relay's `-nothink` suffix resolve through the alias they extend. Anything else is
NOT_FOUND: there is no silent fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gemgate.core.errors import InvalidArgument, NotFound
from gemgate.core.types import ModelInfo

NOTHINK_SUFFIX = "-nothink"
_VERSIONED = re.compile(r"^(?P<base>.+?)-(?:preview-\d{2}-\d{2}(?:-\d{2,4})?|exp-\d{4}|\d{3})$")

# Sampling defaults the engine applies when a request leaves them unset (llama.cpp's).
DEFAULT_TEMPERATURE = 0.8
DEFAULT_TOP_P = 0.95
DEFAULT_TOP_K = 40
MAX_TEMPERATURE = 2.0


EMBEDDING_METHODS = ("embedContent", "batchEmbedContents")


DEFAULT_THINKING_LEVELS = {"minimal": 128, "low": 256, "medium": 512, "high": 1024, "xhigh": 2048}


@dataclass(frozen=True)
class LocalModel:
    id: str
    display_name: str
    description: str
    context_tokens: int
    max_output_tokens: int
    thinking_levels: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THINKING_LEVELS))


@dataclass(frozen=True)
class EmbeddingModel:
    id: str
    display_name: str
    description: str
    max_input_tokens: int


@dataclass(frozen=True)
class ResolvedModel:
    """A request's model: the id asked for, the local model serving it, and its modifiers."""

    requested: str
    local: LocalModel
    thinking_disabled: bool = False
    default_thinking_budget: int | None = None


def strip_resource_prefix(name: str) -> str:
    return name.removeprefix("models/")


class ModelRegistry:
    def __init__(
        self,
        local_models: list[LocalModel],
        aliases: dict[str, str],
        default_model: str,
        default_thinking_budgets: dict[str, int] | None = None,
        embedding_models: list[EmbeddingModel] | None = None,
        embedding_aliases: dict[str, str] | None = None,
    ) -> None:
        self._embedding = _EmbeddingModels(embedding_models or [], embedding_aliases or {})
        self._budgets = dict(default_thinking_budgets or {})
        self._local = {model.id: model for model in local_models}
        if default_model not in self._local:
            raise ValueError(f"default model {default_model!r} is not a configured local model")
        self._default = default_model
        self._aliases = {
            alias: (default_model if target == "default" else target)
            for alias, target in aliases.items()
        }
        for alias, target in self._aliases.items():
            if target not in self._local:
                raise ValueError(f"alias {alias!r} points at unknown local model {target!r}")

    @property
    def default_model(self) -> str:
        return self._default

    def resolve(self, name: str) -> ResolvedModel:
        requested = strip_resource_prefix(name)
        base, nothink = requested, False
        if base.endswith(NOTHINK_SUFFIX):
            base, nothink = base.removesuffix(NOTHINK_SUFFIX), True
        found = self._target(base)
        if found is None and self._embedding.find(requested) is not None:
            raise InvalidArgument(
                f"models/{requested} is an embedding model: it supports embedContent and "
                "batchEmbedContents, not generateContent.",
                field="model",
            )
        if found is None:
            raise NotFound(
                f"models/{requested} is not found for API version, or is not supported for "
                "generateContent. Call ListModels to see the list of available models.",
                field="model",
            )
        public, local_id = found
        return ResolvedModel(
            requested,
            self._local[local_id],
            thinking_disabled=nothink,
            default_thinking_budget=self._budgets.get(public),
        )

    def _target(self, name: str) -> tuple[str, str] | None:
        """(the public id whose settings apply, the local model id) for a name."""
        if name in self._local:
            return name, name
        if name in self._aliases:
            return name, self._aliases[name]
        versioned = _VERSIONED.match(name)
        if versioned and versioned["base"] in self._aliases:
            return versioned["base"], self._aliases[versioned["base"]]
        return None

    def resolve_embedding(self, name: str) -> EmbeddingModel:
        """The local embedding model for a public id; a chat model is refused by name."""
        requested = strip_resource_prefix(name)
        found = self._embedding.find(requested)
        if found is not None:
            return found
        self.resolve(requested)  # NotFound unless it is a chat model
        raise InvalidArgument(
            f"models/{requested} is a generative model and does not support embedContent; "
            "use an embedding model such as gemini-embedding-001.",
            field="model",
        )

    def info(self, name: str) -> ModelInfo:
        embedding = self._embedding.find(strip_resource_prefix(name))
        if embedding is not None:
            return _describe_embedding(strip_resource_prefix(name), embedding)
        resolved = self.resolve(name)
        return self._describe(resolved.requested, resolved.local)

    def list_models(self) -> list[ModelInfo]:
        local = [self._describe(model.id, model) for model in self._local.values()]
        aliased = [self._describe(alias, self._local[t]) for alias, t in self._aliases.items()]
        return local + aliased + self._embedding.describe_all()

    def _describe(self, public_id: str, local: LocalModel) -> ModelInfo:
        is_alias = public_id != local.id
        return ModelInfo(
            id=public_id,
            display_name=f"{public_id} (served by {local.id})" if is_alias else local.display_name,
            description=local.description if not is_alias else f"Alias of {local.id}.",
            version=local.id,
            input_token_limit=local.context_tokens,
            output_token_limit=local.max_output_tokens,
            temperature=DEFAULT_TEMPERATURE,
            max_temperature=MAX_TEMPERATURE,
            top_p=DEFAULT_TOP_P,
            top_k=DEFAULT_TOP_K,
            thinking=True,
        )


class _EmbeddingModels:
    """Local embedding models and the public ids (aliases) that point at them."""

    def __init__(self, models: list[EmbeddingModel], aliases: dict[str, str]) -> None:
        self._local = {model.id: model for model in models}
        for alias, target in aliases.items():
            if target not in self._local:
                raise ValueError(f"embedding alias {alias!r} points at unknown model {target!r}")
        self._aliases = dict(aliases)

    def find(self, name: str) -> EmbeddingModel | None:
        local_id = name if name in self._local else self._aliases.get(name)
        return self._local.get(local_id) if local_id is not None else None

    def describe_all(self) -> list[ModelInfo]:
        local = [_describe_embedding(m.id, m) for m in self._local.values()]
        aliased = [_describe_embedding(a, self._local[t]) for a, t in self._aliases.items()]
        return local + aliased


def _describe_embedding(public_id: str, model: EmbeddingModel) -> ModelInfo:
    is_alias = public_id != model.id
    return ModelInfo(
        id=public_id,
        display_name=f"{public_id} (served by {model.id})" if is_alias else model.display_name,
        description=f"Alias of {model.id}." if is_alias else model.description,
        version=model.id,
        input_token_limit=model.max_input_tokens,
        output_token_limit=1,
        temperature=0.0,
        max_temperature=0.0,
        top_p=0.0,
        top_k=0,
        supported_methods=EMBEDDING_METHODS,
    )
