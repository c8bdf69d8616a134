"""The one request every engine gets: the same chat prompt, greedy, same seed, same budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_PROMPT = "Write a long story about a dragon who learns to cook. Use many details."


@dataclass(frozen=True)
class Workload:
    prompt: str = DEFAULT_PROMPT
    max_tokens: int = 128
    temperature: float = 0.0
    seed: int = 1

    def gemini_body(self) -> dict[str, Any]:
        """A native Gemini `GenerateContentRequest`."""
        return {
            "contents": [{"role": "user", "parts": [{"text": self.prompt}]}],
            "generationConfig": {
                "maxOutputTokens": self.max_tokens,
                "temperature": self.temperature,
                "seed": self.seed,
            },
        }

    def openai_chat_body(self) -> dict[str, Any]:
        """An OpenAI streaming chat completion request (llama_cpp.server and xllamacpp)."""
        return {
            "messages": [{"role": "user", "content": self.prompt}],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
