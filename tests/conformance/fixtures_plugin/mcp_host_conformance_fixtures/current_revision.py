"""Fixtures of the scenarios of protocol revision 2026-07-28: multi-round ``input_required``
results, capability checks, list changes announced to ``subscriptions/listen``, a
hand-written JSON Schema 2020-12 and an ``x-mcp-header`` parameter.

Names, input keys and answers are the ones the scenarios ask for. Most fixtures answer with
``InputRequiredResult`` themselves, as the scenarios probe the wire shape; ``asks_through_a_
resolver`` shows the way a plugin author writes it, one body for both eras.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.shared.exceptions import MCPError
from mcp_types import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequest,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    SamplingMessage,
    TextContent,
)
from pydantic import BaseModel, Field

from mcp_host import Elicit, ElicitationResult, PluginChanges, Resolve

Recorder = Callable[[str], None]

JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def _ask_form(message: str, field: str, kind: str = "string") -> ElicitRequest:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def _ask_model(text: str, max_tokens: int) -> CreateMessageRequest:
    message = SamplingMessage(role="user", content=TextContent(text=text))
    return CreateMessageRequest(params=CreateMessageRequestParams(messages=[message], max_tokens=max_tokens))


def _answered(ctx: Context, key: str) -> Any:
    return (ctx.input_responses or {}).get(key)


def _form_value(answer: Any, field: str) -> Any:
    return answer.content.get(field) if isinstance(answer, ElicitResult) and answer.content else None


class Word(BaseModel):
    word: str = Field(description="Any word")


def _ask_for_a_word() -> Elicit[Word]:
    return Elicit("The stateless streaming probe asks for a word", Word)


def tools(called: Recorder, changes: Callable[[], PluginChanges | None]) -> list[Any]:
    """The fixture tools, each reporting its calls to ``called``."""

    async def test_input_required_result_elicitation(ctx: Context) -> str | InputRequiredResult:
        """Asks for the user's name in an input_required round trip."""
        called("test_input_required_result_elicitation")
        answer = _answered(ctx, "user_name")
        if answer is not None:
            return f"Hello, {_form_value(answer, 'name') or 'stranger'}!"
        return InputRequiredResult(input_requests={"user_name": _ask_form("What is your name?", "name")})

    async def test_input_required_result_sampling(ctx: Context) -> str | InputRequiredResult:
        """Asks the client's model a question in an input_required round trip."""
        called("test_input_required_result_sampling")
        answer = _answered(ctx, "capital_question")
        if answer is not None:
            text = answer.content.text if isinstance(answer, CreateMessageResult) else None
            return f"Model said: {text or '?'}"
        question = _ask_model("What is the capital of France?", 100)
        return InputRequiredResult(input_requests={"capital_question": question})

    async def test_input_required_result_list_roots(ctx: Context) -> str | InputRequiredResult:
        """Asks for the client's roots in an input_required round trip."""
        called("test_input_required_result_list_roots")
        answer = _answered(ctx, "client_roots")
        if answer is not None:
            count = len(answer.roots) if isinstance(answer, ListRootsResult) else 0
            return f"Client exposed {count} root(s)."
        return InputRequiredResult(input_requests={"client_roots": ListRootsRequest()})

    async def test_input_required_result_request_state(ctx: Context) -> str | InputRequiredResult:
        """Round-trips a requestState and checks it comes back as it was sent."""
        called("test_input_required_result_request_state")
        if _answered(ctx, "confirm") is not None and ctx.request_state == "request-state-nonce":
            return "state-ok: confirmation received"
        confirm = _ask_form("Please confirm", "ok", "boolean")
        return InputRequiredResult(input_requests={"confirm": confirm}, request_state="request-state-nonce")

    async def test_input_required_result_multiple_inputs(ctx: Context) -> str | InputRequiredResult:
        """Asks the user, the model and the roots at once."""
        called("test_input_required_result_multiple_inputs")
        if {"user_name", "greeting", "client_roots"} <= (ctx.input_responses or {}).keys():
            return "All inputs received."
        return InputRequiredResult(
            input_requests={
                "user_name": _ask_form("What is your name?", "name"),
                "greeting": _ask_model("Generate a greeting", 50),
                "client_roots": ListRootsRequest(),
            },
            request_state="multiple-inputs",
        )

    async def test_input_required_result_multi_round(ctx: Context) -> str | InputRequiredResult:
        """Three rounds, the requestState carrying what the earlier rounds learnt."""
        called("test_input_required_result_multi_round")
        state = json.loads(ctx.request_state) if ctx.request_state else {"round": 0}
        step1, step2 = _answered(ctx, "step1"), _answered(ctx, "step2")
        if state["round"] == 1 and step1 is not None:
            return InputRequiredResult(
                input_requests={"step2": _ask_form("Step 2: What is your favorite color?", "color")},
                request_state=json.dumps({"round": 2, "name": _form_value(step1, "name")}),
            )
        if state["round"] == 2 and step2 is not None:
            return f"{state.get('name')} likes {_form_value(step2, 'color')}."
        # The first round, or answers out of order: start over.
        return InputRequiredResult(
            input_requests={"step1": _ask_form("Step 1: What is your name?", "name")},
            request_state=json.dumps({"round": 1}),
        )

    async def test_input_required_result_tampered_state(ctx: Context) -> str | InputRequiredResult:
        """Sends a requestState that the host seals; a tampered echo never reaches this body."""
        called("test_input_required_result_tampered_state")
        if ctx.request_state is None:
            confirm = _ask_form("Please confirm", "ok", "boolean")
            return InputRequiredResult(input_requests={"confirm": confirm}, request_state="round-1")
        return f"state-ok: {ctx.request_state}"

    async def test_input_required_result_capabilities(ctx: Context) -> InputRequiredResult:
        """Asks only for what the client declared it can answer."""
        called("test_input_required_result_capabilities")
        capabilities = ctx.client_capabilities
        requests: dict[str, InputRequest] = {}
        if capabilities is None or capabilities.sampling is not None:
            requests["sample"] = _ask_model("Say hello", 50)
        if capabilities is None or capabilities.elicitation is not None:
            requests["ask"] = _ask_form("What is your name?", "name")
        return InputRequiredResult(input_requests=requests, request_state="capability-gated")

    async def test_missing_capability(ctx: Context) -> str:
        """Needs the client's sampling capability, and says so as a protocol error without it."""
        called("test_missing_capability")
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.sampling is None:
            raise MCPError(
                code=MISSING_REQUIRED_CLIENT_CAPABILITY,
                message="This tool requires the client 'sampling' capability",
                data={"requiredCapabilities": {"sampling": {}}},
            )
        return "Client declared sampling capability; proceeding."

    async def test_streaming_elicitation(
        answer: Annotated[ElicitationResult[Word], Resolve(_ask_for_a_word)],
    ) -> str:
        """Asks the user for a word through a resolver: one body for both protocol eras."""
        called("test_streaming_elicitation")
        return f"elicitation {answer.action}"

    async def test_logging_tool(ctx: Context) -> str:
        """Logs once; on 2026-07-28 the client hears it only if its request asked for logs."""
        called("test_logging_tool")
        await ctx.log("info", "test_logging_tool ran")
        return "logged through the request-scoped, logLevel-gated channel"

    async def test_trigger_tool_change() -> str:
        """Announces that the tool list changed."""
        called("test_trigger_tool_change")
        announcer = changes()
        if announcer is not None:
            await announcer.tools_changed()
        return "tool list changed"

    async def test_trigger_prompt_change() -> str:
        """Announces that the prompt list changed."""
        called("test_trigger_prompt_change")
        announcer = changes()
        if announcer is not None:
            await announcer.prompts_changed()
        return "prompt list changed"

    def test_x_mcp_header(
        region: Annotated[
            str,
            Field(
                description="Mirrored into the Mcp-Param-Region header",
                json_schema_extra={"x-mcp-header": "Region"},
            ),
        ] = "<none>",
    ) -> str:
        """Has a parameter the client mirrors into an Mcp-Param-Region header."""
        called("test_x_mcp_header")
        return f"region={region}"

    return [
        test_input_required_result_elicitation,
        test_input_required_result_sampling,
        test_input_required_result_list_roots,
        test_input_required_result_request_state,
        test_input_required_result_multiple_inputs,
        test_input_required_result_multi_round,
        test_input_required_result_tampered_state,
        test_input_required_result_capabilities,
        test_missing_capability,
        test_streaming_elicitation,
        test_logging_tool,
        test_trigger_tool_change,
        test_trigger_prompt_change,
        test_x_mcp_header,
    ]


def json_schema_2020_12_tool(called: Recorder) -> Callable[[], str]:
    def json_schema_2020_12_tool() -> str:
        """Publishes a hand-written JSON Schema 2020-12 as its input schema."""
        called("json_schema_2020_12_tool")
        return "json_schema_2020_12_tool"

    return json_schema_2020_12_tool


def prompts(called: Recorder) -> list[Any]:
    async def test_input_required_result_prompt(ctx: Context) -> list[UserMessage] | InputRequiredResult:
        """A prompt that asks the user for context first (input_required outside tools/call)."""
        called("test_input_required_result_prompt")
        answer = _answered(ctx, "user_context")
        if answer is not None:
            return [UserMessage(f"Use the following context: {_form_value(answer, 'context') or '?'}")]
        ask = _ask_form("What context should the prompt use?", "context")
        return InputRequiredResult(input_requests={"user_context": ask})

    return [test_input_required_result_prompt]
