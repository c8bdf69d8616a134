"""LangChain's ChatOpenAI pointed at gemgate: a real client, no mocks."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

pytestmark = pytest.mark.e2e


@pytest.fixture
def chat_model(openai_base: str) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=openai_base,
        api_key="x",
        model="gemini-2.5-flash",
        max_tokens=8,
        temperature=0,
        max_retries=0,
    )


def test_invoke_returns_an_ai_message_with_usage(chat_model: ChatOpenAI) -> None:
    message = chat_model.invoke("Hi")
    assert isinstance(message, AIMessage)
    assert isinstance(message.content, str) and message.content
    usage = message.usage_metadata
    assert usage is not None and usage["input_tokens"] and usage["output_tokens"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert message.response_metadata["finish_reason"] in ("stop", "length")


def test_invoke_with_a_system_message(chat_model: ChatOpenAI) -> None:
    message = chat_model.invoke([SystemMessage("Be brief."), HumanMessage("Hi")])
    assert message.content


def test_stream_yields_chunks_that_add_up(chat_model: ChatOpenAI) -> None:
    chunks = list(chat_model.stream("Hi"))
    assert chunks and all(isinstance(c, AIMessageChunk) for c in chunks)
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk
    assert isinstance(whole.content, str) and whole.content
