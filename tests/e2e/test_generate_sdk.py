"""generate_content and friends through the real google-genai SDK against a real server."""

from __future__ import annotations

import pytest
from google import genai
from google.genai import errors, types
from google.genai.client import AsyncClient

pytestmark = pytest.mark.e2e

SHORT = types.GenerateContentConfig(max_output_tokens=8, temperature=0.0)


def test_generate_with_a_string_answers_text_and_usage(client: genai.Client) -> None:
    response = client.models.generate_content(
        model="gemini-2.5-flash", contents="Say hello.", config=SHORT
    )
    assert response.text
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert response.model_version == "smollm2-135m-instruct"
    assert response.response_id


def test_generate_with_content_objects(gemini: genai.Client) -> None:
    contents = [types.Content(role="user", parts=[types.Part(text="Name a colour.")])]
    response = gemini.models.generate_content(
        model="models/gemini-2.0-flash", contents=contents, config=SHORT
    )
    assert response.candidates and response.candidates[0].content
    assert response.candidates[0].content.role == "model"
    assert response.text


def test_system_instruction_reaches_the_prompt(gemini: genai.Client) -> None:
    plain = gemini.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=SHORT)
    with_system = gemini.models.generate_content(
        model="gemini-2.5-flash",
        contents="Hi",
        config=types.GenerateContentConfig(
            system_instruction="You are a terse assistant who answers in French.",
            max_output_tokens=8,
            temperature=0.0,
        ),
    )
    assert plain.usage_metadata and with_system.usage_metadata
    assert with_system.usage_metadata.prompt_token_count != plain.usage_metadata.prompt_token_count


def test_max_output_tokens_is_honoured_with_max_tokens(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model="gemini-2.5-flash",
        contents="Write a long story about a dragon.",
        config=types.GenerateContentConfig(max_output_tokens=5, temperature=0.0),
    )
    assert response.candidates
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata and response.usage_metadata.candidates_token_count == 5


def test_stop_sequence_cuts_the_text_before_it(gemini: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=24, temperature=0.0, seed=7)
    prompt = "Write a long story about a dragon."
    full = gemini.models.generate_content(model="gemini-2.5-flash", contents=prompt, config=config)
    words = (full.text or "").split()
    assert len(words) >= 4, full.text
    stop = words[3]
    cut = gemini.models.generate_content(
        model="gemini-2.5-flash",
        contents=prompt,
        config=config.model_copy(update={"stop_sequences": [stop]}),
    )
    assert cut.candidates and cut.candidates[0].finish_reason == types.FinishReason.STOP
    assert stop not in (cut.text or "")
    assert (full.text or "").startswith(cut.text or "")


def test_same_seed_gives_the_same_text(gemini: genai.Client) -> None:
    # The second request differs only by a stop sequence that never occurs, so it misses the
    # exact-response cache and the engine really samples again with the same seed.
    config = types.GenerateContentConfig(max_output_tokens=16, temperature=1.0, seed=1234)
    first = gemini.models.generate_content(
        model="gemini-2.5-flash", contents="Tell me a fact.", config=config
    )
    second = gemini.models.generate_content(
        model="gemini-2.5-flash",
        contents="Tell me a fact.",
        config=config.model_copy(update={"stop_sequences": ["@@never@@"]}),
    )
    usage = second.usage_metadata
    assert usage and usage.cached_content_token_count != usage.prompt_token_count
    assert first.text == second.text


def test_candidate_count_two_gives_two_candidates(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model="gemini-2.5-flash",
        contents="Name an animal.",
        config=types.GenerateContentConfig(max_output_tokens=6, candidate_count=2, seed=3),
    )
    assert response.candidates is not None
    assert [c.index for c in response.candidates] == [0, 1]
    assert all(c.finish_reason is not None for c in response.candidates)
    usage = response.usage_metadata
    # Both candidates' tokens are counted; the prompt is counted once.
    assert usage and usage.candidates_token_count and 2 <= usage.candidates_token_count <= 12
    single = gemini.models.count_tokens(model="gemini-2.5-flash", contents="Name an animal.")
    assert usage.prompt_token_count == single.total_tokens


def test_stream_gives_several_chunks_and_usage_on_the_last(client: genai.Client) -> None:
    chunks = list(
        client.models.generate_content_stream(
            model="gemini-2.5-flash",
            # One prompt per client: a repeat would be an exact-response cache hit (one chunk).
            contents=f"Count from one to ten. ({client._api_client._http_options.base_url})",
            config=types.GenerateContentConfig(max_output_tokens=12, temperature=0.0),
        )
    )
    assert len(chunks) > 1
    assert all(c.usage_metadata is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.usage_metadata and last.usage_metadata.candidates_token_count == 12
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert "".join(c.text or "" for c in chunks)


def test_stream_text_equals_the_unstreamed_text(gemini: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=12, temperature=0.0)
    whole = gemini.models.generate_content(model="gemini-2.5-flash", contents="Hi!", config=config)
    streamed = "".join(
        c.text or ""
        for c in gemini.models.generate_content_stream(
            model="gemini-2.5-flash", contents="Hi!", config=config
        )
    )
    assert streamed == whole.text


def test_chat_sends_history_and_keeps_it(gemini: genai.Client) -> None:
    chat = gemini.chats.create(model="gemini-2.5-flash", config=SHORT)
    first = chat.send_message("My name is Ada.")
    second = chat.send_message("What is my name?")
    history = chat.get_history()
    assert [c.role for c in history] == ["user", "model", "user", "model"]
    assert first.usage_metadata and second.usage_metadata
    assert second.usage_metadata.prompt_token_count > first.usage_metadata.prompt_token_count


def test_chat_stream_keeps_history(gemini: genai.Client) -> None:
    chat = gemini.chats.create(model="gemini-2.5-flash", config=SHORT)
    list(chat.send_message_stream("Hello there."))
    # The SDK records each streamed chunk as a model turn; all of them are kept as valid.
    roles = [c.role for c in chat.get_history(curated=True)]
    assert roles[0] == "user" and len(roles) > 1 and set(roles[1:]) == {"model"}
    second = list(chat.send_message_stream("And again."))
    assert second[-1].usage_metadata is not None


def test_count_tokens_equals_the_prompt_tokens_of_a_generation(client: genai.Client) -> None:
    contents = "How many tokens is this sentence?"
    counted = client.models.count_tokens(model="gemini-2.5-flash", contents=contents)
    generated = client.models.generate_content(
        model="gemini-2.5-flash", contents=contents, config=SHORT
    )
    assert generated.usage_metadata
    assert counted.total_tokens == generated.usage_metadata.prompt_token_count


def test_models_list_and_get(client: genai.Client) -> None:
    names = [m.name for m in client.models.list(config={"page_size": 3})]
    assert "models/smollm2-135m-instruct" in names
    assert "models/gemini-2.5-flash" in names
    model = client.models.get(model="gemini-2.5-flash")
    assert model.name == "models/gemini-2.5-flash"
    assert model.input_token_limit and model.output_token_limit
    assert model.supported_actions and "generateContent" in model.supported_actions


def test_dated_preview_and_nothink_aliases_resolve(gemini: genai.Client) -> None:
    for name in ("gemini-2.5-flash-preview-04-17", "gemini-2.5-flash-nothink"):
        response = gemini.models.generate_content(model=name, contents="Hi", config=SHORT)
        assert response.model_version == "smollm2-135m-instruct"


def test_unknown_model_is_not_found(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(model="gemini-9-ultra", contents="Hi", config=SHORT)
    assert raised.value.code == 404 and raised.value.status == "NOT_FOUND"


def test_out_of_range_temperature_is_invalid_argument(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model="gemini-2.5-flash",
            contents="Hi",
            config=types.GenerateContentConfig(temperature=3.5),
        )
    assert raised.value.code == 400 and raised.value.status == "INVALID_ARGUMENT"
    assert "temperature" in (raised.value.message or "")


def test_image_on_a_text_model_is_refused_naming_the_modality(gemini: genai.Client) -> None:
    image = types.Part.from_bytes(data=b"\x89PNG\r\n\x1a\n", mime_type="image/png")
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model="gemini-2.5-flash", contents=["What is this?", image], config=SHORT
        )
    assert raised.value.code == 400
    assert "IMAGE" in (raised.value.message or "")


async def test_async_generate_and_stream(aio: AsyncClient) -> None:
    response = await aio.models.generate_content(
        model="gemini-2.5-flash", contents="Hello", config=SHORT
    )
    assert response.text
    chunks = [
        chunk
        async for chunk in await aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="Hello", config=SHORT
        )
    ]
    assert chunks[-1].usage_metadata is not None


async def test_async_count_tokens_and_errors(aio: AsyncClient) -> None:
    counted = await aio.models.count_tokens(model="gemini-2.5-flash", contents="abc")
    assert counted.total_tokens and counted.total_tokens > 0
    with pytest.raises(errors.ClientError) as raised:
        await aio.models.generate_content(model="nope", contents="Hi")
    assert raised.value.code == 404
