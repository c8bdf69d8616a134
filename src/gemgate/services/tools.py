"""Function calling on local models: declarations, the prompt format, and reading calls back.

Local models here have no tool-call format of their own in their chat template, so gemgate
uses one documented default (docs/design.md): the functions are listed as JSON in the system
turn; a call is `<tool_call>{"name": …, "args": {…}}</tool_call>`; a result goes back as
`<tool_response>{"name": …, "response": {…}}</tool_response>` in a user turn. The engine's
grammar guarantees every call parses and matches its declaration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gemgate.core.errors import InvalidArgument
from gemgate.core.ports import ToolCallConstraint
from gemgate.core.types import FunctionCallPart, FunctionResponsePart, GenerateRequest
from gemgate.services.structured import closed_objects

MODES = {"AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"}
MAX_CALLS_PER_TURN = 8
RESPONSE_OPEN, RESPONSE_CLOSE = "<tool_response>", "</tool_response>"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    parameters: Any


@dataclass(frozen=True)
class ToolPlan:
    """What the request's tools mean for this generation."""

    functions: tuple[FunctionSpec, ...]
    mode: str
    allowed: tuple[str, ...]
    max_calls: int | None = None  # the OpenAI dialect's parallel_tool_calls=false is 1

    @property
    def calls_possible(self) -> bool:
        return bool(self.functions) and self.mode != "NONE"


def _functions(request: GenerateRequest) -> tuple[FunctionSpec, ...]:
    specs: list[FunctionSpec] = []
    for i, tool in enumerate(request.tools):
        if tool.kind == "codeExecution":
            continue  # run by services/code_execution.py
        if tool.kind != "functionDeclarations":
            raise InvalidArgument(
                f"tools[{i}].{tool.kind} is not supported by this server yet.",
                field=f"tools[{i}].{tool.kind}",
            )
        for raw in tool.spec.get("functionDeclarations", []):
            specs.append(
                FunctionSpec(
                    raw["name"], raw.get("description", ""), raw.get("parametersJsonSchema")
                )
            )
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidArgument(f"Duplicate function declarations: {duplicates}.", field="tools")
    return tuple(specs)


def _calling_config(request: GenerateRequest) -> dict[str, Any]:
    config = (request.tool_config or {}).get("functionCallingConfig") or {}
    return {
        "mode": config.get("mode") or "AUTO",
        "allowed": config.get("allowedFunctionNames") or config.get("allowed_function_names") or [],
        "max_calls": config.get("maxCallsPerTurn"),
    }


def plan_tools(request: GenerateRequest) -> ToolPlan:
    functions = _functions(request)
    config = _calling_config(request)
    mode = str(config["mode"]).upper()
    if mode not in MODES:
        raise InvalidArgument(
            f"toolConfig.functionCallingConfig.mode {config['mode']!r} is not one of "
            f"{sorted(MODES)}.",
            field="toolConfig.functionCallingConfig.mode",
        )
    allowed = tuple(config["allowed"])
    unknown = [name for name in allowed if name not in {f.name for f in functions}]
    if unknown:
        raise InvalidArgument(
            f"allowedFunctionNames {unknown} are not declared functions.",
            field="toolConfig.functionCallingConfig.allowedFunctionNames",
        )
    if mode == "ANY" and not functions:
        raise InvalidArgument(
            "Function calling mode ANY needs at least one function declaration.",
            field="toolConfig.functionCallingConfig.mode",
        )
    max_calls = config["max_calls"]
    if max_calls is not None and (not isinstance(max_calls, int) or max_calls < 1):
        raise InvalidArgument(
            "maxCallsPerTurn must be a positive integer.",
            field="toolConfig.functionCallingConfig.maxCallsPerTurn",
        )
    return ToolPlan(functions, "AUTO" if mode == "MODE_UNSPECIFIED" else mode, allowed, max_calls)


def _callable(plan: ToolPlan) -> tuple[FunctionSpec, ...]:
    if not plan.allowed:
        return plan.functions
    return tuple(f for f in plan.functions if f.name in plan.allowed)


def tool_prompt(plan: ToolPlan) -> str:
    """The system-turn section that tells the model what it may call and how."""
    listed = json.dumps(
        [
            {"name": f.name, "description": f.description, "parameters": f.parameters or {}}
            for f in _callable(plan)
        ],
        ensure_ascii=False,
    )
    must = (
        "You must call one or more of them."
        if plan.mode == "ANY"
        else ("Call them only when they help; otherwise answer normally.")
    )
    return (
        f"You can call these functions:\n{listed}\n{must} To call a function, reply with "
        f'{ToolCallConstraint.OPEN}{{"name": <function name>, "args": <arguments object>}}'
        f"{ToolCallConstraint.CLOSE} for each call and nothing else. Function results come "
        f"back as {RESPONSE_OPEN}…{RESPONSE_CLOSE}."
    )


NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


def args_schema(parameters: Any) -> Any:
    """A function's argument schema; none (or an object that declares nothing) means no args.

    An open `{"type": "object"}` would let a model invent arguments until the token limit.
    """
    if parameters is None or parameters == {}:
        return NO_ARGS
    if (
        isinstance(parameters, dict)
        and parameters.get("type") == "object"
        and "properties" not in parameters
        and "additionalProperties" not in parameters
        and not any(key in parameters for key in ("anyOf", "oneOf", "allOf", "$ref"))
    ):
        return {**parameters, **NO_ARGS}
    return closed_objects(parameters)


def tool_constraint(plan: ToolPlan) -> ToolCallConstraint:
    callable_ = _callable(plan)
    limit = min(len(callable_), MAX_CALLS_PER_TURN, plan.max_calls or MAX_CALLS_PER_TURN)
    return ToolCallConstraint(
        functions=tuple((f.name, args_schema(f.parameters)) for f in callable_),
        allow_text=plan.mode != "ANY",
        max_calls=limit,
        field="tools",
    )


def render_call(part: FunctionCallPart) -> str:
    body = json.dumps({"name": part.name, "args": part.args}, ensure_ascii=False)
    return f"{ToolCallConstraint.OPEN}{body}{ToolCallConstraint.CLOSE}"


def render_response(part: FunctionResponsePart) -> str:
    body = json.dumps({"name": part.name, "response": part.response}, ensure_ascii=False)
    return f"{RESPONSE_OPEN}{body}{RESPONSE_CLOSE}"


def parse_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The calls in grammar-constrained output: blocks of OPEN {json} CLOSE."""
    calls: list[tuple[str, dict[str, Any]]] = []
    decoder = json.JSONDecoder()
    position = 0
    while text.startswith(ToolCallConstraint.OPEN, position):
        value, end = decoder.raw_decode(text, position + len(ToolCallConstraint.OPEN))
        calls.append((str(value["name"]), dict(value.get("args") or {})))
        position = end + len(ToolCallConstraint.CLOSE)
    return calls
