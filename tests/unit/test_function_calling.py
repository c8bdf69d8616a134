"""Function calling through the generation service, over a fake engine that replies as told."""

from __future__ import annotations

import json

import pytest

from gemgate.core import types as core
from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import ChoiceConstraint, JsonConstraint, ToolCallConstraint
from tests.unit.test_generation_service import SIGNER, FakeEngine, service

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TOOLS = (core.Tool("functionDeclarations", {"functionDeclarations": [WEATHER]}),)


def ask(
    *contents: core.Content, tool_config: dict[str, object] | None = None, **config: object
) -> core.GenerateRequest:
    contents = contents or (core.Content(core.Role.USER, (core.TextPart("Weather?"),)),)
    return core.GenerateRequest(
        "small",
        contents,
        tools=TOOLS,
        tool_config=tool_config,
        config=core.GenerationConfig(**config),  # type: ignore[arg-type]
    )


def call_text(name: str, args: dict[str, object]) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'args': args})}</tool_call>"


async def test_a_generated_call_becomes_a_signed_function_call_part() -> None:
    engine = FakeEngine(call_text("get_weather", {"city": "Paris"}))
    response = await service(engine).generate(ask())
    (part,) = response.candidates[0].parts
    assert isinstance(part, core.FunctionCallPart)
    assert (part.name, part.args) == ("get_weather", {"city": "Paris"})
    assert part.id and part.thought_signature == SIGNER.sign("get_weather", {"city": "Paris"})
    assert response.candidates[0].finish_reason is core.FinishReason.STOP


async def test_auto_mode_lets_text_through_and_allows_text_in_the_grammar() -> None:
    engine = FakeEngine("It is sunny.")
    response = await service(engine).generate(ask())
    assert response.candidates[0].parts == (core.TextPart("It is sunny. "),)
    (constraint,) = engine.constraints
    assert isinstance(constraint, ToolCallConstraint) and constraint.allow_text


async def test_any_mode_forces_a_call_among_the_allowed_names() -> None:
    engine = FakeEngine(call_text("get_weather", {}))
    other = {"name": "get_time", "parametersJsonSchema": {"type": "object"}}
    request = core.GenerateRequest(
        "small",
        (core.Content(core.Role.USER, (core.TextPart("x"),)),),
        tools=(core.Tool("functionDeclarations", {"functionDeclarations": [WEATHER, other]}),),
        tool_config={
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
        },
    )
    await service(engine).generate(request)
    (constraint,) = engine.constraints
    assert isinstance(constraint, ToolCallConstraint) and not constraint.allow_text
    assert [name for name, _ in constraint.functions] == ["get_weather"]
    assert "You must call" in engine.rendered[0][0].content


async def test_none_mode_describes_no_functions_and_constrains_nothing() -> None:
    engine = FakeEngine("plain")
    await service(engine).generate(ask(tool_config={"functionCallingConfig": {"mode": "NONE"}}))
    assert engine.constraints == [] and engine.rendered[0][0].role == "user"


async def test_history_with_a_call_and_its_response_is_rendered() -> None:
    engine = FakeEngine("Done.")
    args = {"city": "Paris"}
    history = (
        core.Content(core.Role.USER, (core.TextPart("Weather?"),)),
        core.Content(
            core.Role.MODEL,
            (
                core.FunctionCallPart(
                    "get_weather", args, thought_signature=SIGNER.sign("get_weather", args)
                ),
            ),
        ),
        core.Content(
            core.Role.USER, (core.FunctionResponsePart("get_weather", {"result": {"temp": 20}}),)
        ),
    )
    await service(engine).generate(ask(*history))
    rendered = engine.rendered[0]
    assert rendered[-2].content == call_text("get_weather", args)
    assert rendered[-1].content == (
        '<tool_response>{"name": "get_weather", "response": {"result": {"temp": 20}}}'
        "</tool_response>"
    )


async def test_an_echoed_call_without_a_signature_is_accepted() -> None:
    history = (
        core.Content(core.Role.USER, (core.TextPart("Weather?"),)),
        core.Content(core.Role.MODEL, (core.FunctionCallPart("get_weather", {}),)),
        core.Content(core.Role.USER, (core.FunctionResponsePart("get_weather", {}),)),
    )
    assert (await service(FakeEngine("ok")).generate(ask(*history))).candidates


async def test_a_tampered_call_fails_its_signature() -> None:
    signature = SIGNER.sign("get_weather", {"city": "Paris"})
    history = (
        core.Content(core.Role.USER, (core.TextPart("Weather?"),)),
        core.Content(
            core.Role.MODEL,
            (core.FunctionCallPart("get_weather", {"city": "Rome"}, thought_signature=signature),),
        ),
        core.Content(core.Role.USER, (core.FunctionResponsePart("get_weather", {}),)),
    )
    with pytest.raises(InvalidArgument) as raised:
        await service(FakeEngine("ok")).generate(ask(*history))
    assert raised.value.field == "contents[1].parts[0].thoughtSignature"


async def test_a_call_cut_off_by_the_token_limit_returns_no_call() -> None:
    engine = FakeEngine('<tool_call>{"name": "get_weather", "args": {"ci')
    response = await service(engine).generate(ask(max_output_tokens=1))
    assert response.candidates[0].finish_reason is core.FinishReason.MAX_TOKENS
    assert not any(isinstance(p, core.FunctionCallPart) for p in response.candidates[0].parts)


@pytest.mark.parametrize(
    ("tool_config", "field"),
    [
        ({"functionCallingConfig": {"mode": "SOMETIMES"}}, "mode"),
        (
            {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["nope"]}},
            "allowedFunctionNames",
        ),
    ],
)
async def test_bad_calling_config_names_the_field(
    tool_config: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await service(FakeEngine()).generate(ask(tool_config=tool_config))
    assert raised.value.field and raised.value.field.endswith(field)


async def test_json_mode_with_tools_is_refused_as_on_gemini() -> None:
    with pytest.raises(InvalidArgument):
        await service(FakeEngine()).generate(ask(response_mime_type="application/json"))


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"response_mime_type": "application/json"},
            JsonConstraint({"type": "object"}, "generationConfig.responseSchema"),
        ),
        (
            {"response_mime_type": "application/json", "response_json_schema": {"type": "integer"}},
            JsonConstraint({"type": "integer"}, "generationConfig.responseSchema"),
        ),
        (
            {"response_mime_type": "text/x.enum", "response_json_schema": {"enum": ["a", "b"]}},
            ChoiceConstraint(("a", "b"), "generationConfig.responseSchema"),
        ),
    ],
)
async def test_response_formats_become_constraints(
    config: dict[str, object], expected: object
) -> None:
    engine = FakeEngine("x")
    request = core.GenerateRequest(
        "small",
        (core.Content(core.Role.USER, (core.TextPart("x"),)),),
        config=core.GenerationConfig(**config),  # type: ignore[arg-type]
    )
    await service(engine).generate(request)
    assert engine.constraints == [expected]


@pytest.mark.parametrize(
    "config",
    [
        {"response_json_schema": {"type": "object"}},
        {"response_mime_type": "text/x.enum", "response_json_schema": {"type": "string"}},
        {"response_mime_type": "image/png"},
    ],
)
async def test_inconsistent_response_formats_are_refused(config: dict[str, object]) -> None:
    request = core.GenerateRequest(
        "small",
        (core.Content(core.Role.USER, (core.TextPart("x"),)),),
        config=core.GenerationConfig(**config),  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidArgument):
        await service(FakeEngine()).generate(request)


def test_objects_are_closed_unless_the_schema_opens_them() -> None:
    from gemgate.services.structured import closed_objects

    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "string"}}},
            "c": {"type": "object", "properties": {}, "additionalProperties": True},
        },
        "$defs": {"D": {"properties": {"properties": {"const": 1}}}},
    }
    closed = closed_objects(schema)
    assert closed["additionalProperties"] is False
    assert closed["properties"]["a"]["additionalProperties"] is False
    assert closed["properties"]["c"]["additionalProperties"] is True
    assert closed["$defs"]["D"]["additionalProperties"] is False


@pytest.mark.parametrize(
    "parameters", [None, {}, {"type": "object"}, {"type": "object", "description": "none"}]
)
def test_a_function_that_declares_no_arguments_takes_none(parameters: object) -> None:
    from gemgate.services.tools import args_schema

    schema = args_schema(parameters)
    assert schema["properties"] == {} and schema["additionalProperties"] is False


async def test_max_calls_per_turn_bounds_the_grammar() -> None:
    engine = FakeEngine("It is sunny.")
    other = {"name": "get_time", "parametersJsonSchema": {"type": "object"}}
    request = core.GenerateRequest(
        "small",
        (core.Content(core.Role.USER, (core.TextPart("x"),)),),
        tools=(core.Tool("functionDeclarations", {"functionDeclarations": [WEATHER, other]}),),
        tool_config={"functionCallingConfig": {"maxCallsPerTurn": 1}},
    )
    await service(engine).generate(request)
    (constraint,) = engine.constraints
    assert isinstance(constraint, ToolCallConstraint) and constraint.max_calls == 1
