"""Function calling through the real SDK: forced calls, a manual round trip, and AFC."""

from __future__ import annotations

import pytest
from google import genai
from google.genai import errors, types

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"

WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING)},
        required=["city"],
    ),
)
TIME = types.FunctionDeclaration(
    name="get_time",
    description="Current time in a timezone.",
    parameters_json_schema={
        "type": "object",
        "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}},
        "required": ["zone"],
    },
)


def forced(*allowed: str) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER, TIME])],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=list(allowed)
            )
        ),
        temperature=0.0,
        max_output_tokens=80,
    )


def test_a_forced_call_names_an_allowed_function_with_valid_args(gemini: genai.Client) -> None:
    response = gemini.models.generate_content(
        model=MODEL, contents="What time is it in Berlin?", config=forced("get_time")
    )
    calls = response.function_calls
    assert calls and all(call.name == "get_time" for call in calls)
    assert all(call.args and call.args["zone"] in {"UTC", "CET"} for call in calls)
    assert all(call.id for call in calls)
    parts = response.candidates[0].content.parts if response.candidates else None
    assert parts and parts[0].thought_signature


def test_call_then_function_response_then_text(gemini: genai.Client) -> None:
    question = types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])
    first = gemini.models.generate_content(
        model=MODEL, contents=[question], config=forced("get_weather")
    )
    assert first.candidates and first.candidates[0].content and first.function_calls
    call = first.function_calls[0]
    answer = types.Content(
        role="user",
        parts=[
            types.Part.from_function_response(
                name=call.name or "", response={"result": "sunny, 21 C"}
            )
        ],
    )
    final = gemini.models.generate_content(
        model=MODEL,
        contents=[question, first.candidates[0].content, answer],
        config=types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[WEATHER])],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(mode="NONE")
            ),
            max_output_tokens=16,
            temperature=0.0,
        ),
    )
    assert final.text and not final.function_calls


def test_a_tampered_echoed_call_is_refused(gemini: genai.Client) -> None:
    question = types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])
    first = gemini.models.generate_content(
        model=MODEL, contents=[question], config=forced("get_weather")
    )
    assert first.candidates and first.candidates[0].content
    turn = first.candidates[0].content.model_copy(deep=True)
    assert turn.parts and turn.parts[0].function_call
    turn.parts[0].function_call.args = {"city": "Somewhere else entirely"}
    answer = types.Content(
        role="user",
        parts=[types.Part.from_function_response(name="get_weather", response={"result": "rain"})],
    )
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model=MODEL, contents=[question, turn, answer], config=forced("get_weather")
        )
    assert raised.value.code == 400 and "thoughtSignature" in (raised.value.message or "")


def test_automatic_function_calling_runs_the_python_function(gemini: genai.Client) -> None:
    seen: list[str] = []

    def get_weather(city: str) -> str:
        """Current weather for a city.

        Args:
            city: The city name.
        """
        seen.append(city)
        return f"sunny in {city}"

    response = gemini.models.generate_content(
        model=MODEL,
        contents="What is the weather in Paris?",
        config=types.GenerateContentConfig(
            tools=[get_weather],
            tool_config=types.ToolConfig(
                function_calling_config=types.FunctionCallingConfig(mode="ANY")
            ),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=2),
            temperature=0.0,
            max_output_tokens=40,
        ),
    )
    assert seen and all(isinstance(city, str) for city in seen)
    history = response.automatic_function_calling_history or []
    kinds = [
        "call" if p.function_call else "response" if p.function_response else "text"
        for content in history
        for p in content.parts or []
    ]
    assert "call" in kinds and "response" in kinds


def test_a_declaration_without_a_name_is_a_400(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(
            model=MODEL,
            contents="x",
            config=types.GenerateContentConfig(
                tools=[
                    types.Tool(
                        function_declarations=[types.FunctionDeclaration(description="nameless")]
                    )
                ]
            ),
        )
    assert raised.value.code == 400 and "name" in (raised.value.message or "")


def test_streamed_call_arrives_as_a_whole_function_call_part(gemini: genai.Client) -> None:
    chunks = list(
        gemini.models.generate_content_stream(
            model=MODEL, contents="Weather in Rome?", config=forced("get_weather")
        )
    )
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert calls and calls[0].name == "get_weather" and "city" in (calls[0].args or {})
    assert chunks[-1].usage_metadata is not None
