"""The conformance fixtures, through a real host, do exactly what the suite's scenarios expect.

The conformance suite checks little of what it gets back (``tools-list`` passes with no tools),
so these tests pin each fixture's answer to its scenario's specification, over both
transports, with the Python SDK client. They also cover what the suite cannot reach through
this host (see ``expected-failures.yml``), such as the log messages of
``test_tool_with_logging``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    LoggingMessageNotificationParams,
    PromptReference,
    TextContent,
)

from tests.conformance.conftest import PROMPTS, RESOURCE_TEMPLATES, RESOURCES, TOOLS, FixturesHost

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("transport", ["sse", "http"])]


class RecordingClient:
    """What a client that supports sampling and elicitation saw from the server."""

    def __init__(self) -> None:
        self.logs: list[LoggingMessageNotificationParams] = []
        self.sampling_requests: list[CreateMessageRequestParams] = []
        self.elicitations: list[ElicitRequestParams] = []

    async def on_log(self, params: LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def on_sampling(self, context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.sampling_requests.append(params)
        return CreateMessageResult(
            role="assistant",
            content=TextContent(text="This is a test response from the client"),
            model="test-model",
            stop_reason="endTurn",
        )

    async def on_elicitation(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.elicitations.append(params)
        return ElicitResult(action="accept", content={"username": "testuser", "email": "test@example.com"})


def _streams(fixtures_host: FixturesHost, transport: str) -> Any:
    host = fixtures_host.host
    return sse_client(host.sse_url()) if transport == "sse" else streamable_http_client(host.url("/mcp"))


def _dump(model: Any) -> Any:
    return json.loads(model.model_dump_json(by_alias=True, exclude_none=True))


async def test_the_host_serves_every_fixture(fixtures_host: FixturesHost, transport: str):
    async with _streams(fixtures_host, transport) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        tools = (await client.list_tools()).tools
        resources = (await client.list_resources()).resources
        templates = (await client.list_resource_templates()).resource_templates
        prompts = (await client.list_prompts()).prompts
    assert {tool.name for tool in tools} == TOOLS
    assert all(tool.description for tool in tools)
    # A plugin's hand-written schema is published exactly as written (input_schema=).
    by_name = {tool.name: tool for tool in tools}
    schema = by_name["json_schema_2020_12_tool"].input_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["address"] == {"$ref": "#/$defs/address"}
    assert {"$defs", "allOf", "if", "then", "else"} <= schema.keys()
    assert {str(resource.uri) for resource in resources} == RESOURCES
    assert {template.uri_template for template in templates} == RESOURCE_TEMPLATES
    assert {prompt.name for prompt in prompts} == PROMPTS
    assert all(prompt.description for prompt in prompts)


async def test_content_fixtures(fixtures_host: FixturesHost, transport: str):
    async with _streams(fixtures_host, transport) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        text = _dump(await client.call_tool("test_simple_text", {}))
        image = _dump(await client.call_tool("test_image_content", {}))
        audio = _dump(await client.call_tool("test_audio_content", {}))
        embedded = _dump(await client.call_tool("test_embedded_resource", {}))
        mixed = _dump(await client.call_tool("test_multiple_content_types", {}))
        error = _dump(await client.call_tool("test_error_handling", {}))

    assert text["content"] == [{"type": "text", "text": "This is a simple text response for testing."}]
    [image_block] = image["content"]
    assert image_block["mimeType"] == "image/png"
    assert base64.b64decode(image_block["data"]).startswith(b"\x89PNG\r\n\x1a\n")
    [audio_block] = audio["content"]
    assert audio_block["mimeType"] == "audio/wav"
    wav = base64.b64decode(audio_block["data"])
    assert wav.startswith(b"RIFF")
    assert wav[8:12] == b"WAVE"
    assert embedded["content"] == [
        {
            "type": "resource",
            "resource": {
                "uri": "test://embedded-resource",
                "mimeType": "text/plain",
                "text": "This is an embedded resource content.",
            },
        }
    ]
    assert [block["type"] for block in mixed["content"]] == ["text", "image", "resource"]
    assert json.loads(mixed["content"][2]["resource"]["text"]) == {"test": "data", "value": 123}
    assert error["isError"] is True
    assert "This tool intentionally returns an error for testing" in error["content"][0]["text"]


async def test_logging_and_progress_fixtures(fixtures_host: FixturesHost, transport: str):
    seen = RecordingClient()
    progress: list[tuple[float, float | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total))

    async with (
        _streams(fixtures_host, transport) as (read, write),
        ClientSession(read, write, logging_callback=seen.on_log) as client,
    ):
        await client.initialize()
        logged = await client.call_tool("test_tool_with_logging", {})
        reported = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)

    assert not logged.is_error
    assert not reported.is_error
    assert [(log.level, log.data) for log in seen.logs] == [
        ("info", "Tool execution started"),
        ("info", "Tool processing data"),
        ("info", "Tool execution completed"),
    ]
    assert progress == [(0, 100), (50, 100), (100, 100)]


async def test_completion_fixture(fixtures_host: FixturesHost, transport: str):
    async with _streams(fixtures_host, transport) as (read, write), ClientSession(read, write) as client:
        initialized = await client.initialize()
        prompt = PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
        completed = await client.complete(prompt, {"name": "arg1", "value": "test"})
        nothing = await client.complete(
            PromptReference(type="ref/prompt", name="test_simple_prompt"), {"name": "x", "value": ""}
        )
    assert initialized.capabilities.completions is not None
    assert completed.completion.values == ["test", "testing", "tested"]
    assert completed.completion.total == 3
    assert nothing.completion.values == []


@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
async def test_a_client_gets_only_the_log_levels_it_asked_for(fixtures_host: FixturesHost, transport: str):
    chatty, quiet = RecordingClient(), RecordingClient()
    async with (
        _streams(fixtures_host, transport) as (read, write),
        ClientSession(read, write, logging_callback=quiet.on_log) as quiet_client,
        _streams(fixtures_host, transport) as (read_2, write_2),
        ClientSession(read_2, write_2, logging_callback=chatty.on_log) as chatty_client,
    ):
        initialized = await quiet_client.initialize()
        await chatty_client.initialize()
        assert initialized.capabilities.logging is not None
        await quiet_client.set_logging_level("warning")
        await quiet_client.call_tool("test_tool_with_logging", {})
        await chatty_client.call_tool("test_tool_with_logging", {})
        await quiet_client.set_logging_level("info")
        await quiet_client.call_tool("test_tool_with_logging", {})
    # The level is the session's own: the other client still gets every message.
    assert len(chatty.logs) == 3
    assert [log.data for log in quiet.logs] == [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]


async def test_sampling_and_elicitation_fixtures(fixtures_host: FixturesHost, transport: str):
    seen = RecordingClient()
    async with (
        _streams(fixtures_host, transport) as (read, write),
        ClientSession(
            read, write, sampling_callback=seen.on_sampling, elicitation_callback=seen.on_elicitation
        ) as client,
    ):
        await client.initialize()
        sampled = _dump(await client.call_tool("test_sampling", {"prompt": "Test prompt for sampling"}))
        elicited = _dump(
            await client.call_tool("test_elicitation", {"message": "Please provide your information"})
        )
        defaults = _dump(await client.call_tool("test_elicitation_sep1034_defaults", {}))
        enums = _dump(await client.call_tool("test_elicitation_sep1330_enums", {}))

    [sampling] = seen.sampling_requests
    assert sampling.max_tokens == 100
    assert _dump(sampling.messages[0]) == {
        "role": "user",
        "content": {"type": "text", "text": "Test prompt for sampling"},
    }
    assert sampled["content"][0]["text"] == "LLM response: This is a test response from the client"

    first, with_defaults, with_enums = seen.elicitations
    assert first.message == "Please provide your information"
    assert first.requested_schema["required"] == ["username", "email"]
    assert elicited["content"][0]["text"] == (
        'User response: action=accept, content={"username": "testuser", "email": "test@example.com"}'
    )
    assert {
        name: field["default"] for name, field in with_defaults.requested_schema["properties"].items()
    } == {
        "name": "John Doe",
        "age": 30,
        "score": 95.5,
        "status": "active",
        "verified": True,
    }
    enum_fields = with_enums.requested_schema["properties"]
    assert set(enum_fields) == {
        "untitledSingle",
        "titledSingle",
        "legacyEnum",
        "untitledMulti",
        "titledMulti",
    }
    assert enum_fields["legacyEnum"]["enumNames"] == ["Option One", "Option Two", "Option Three"]
    assert enum_fields["titledMulti"]["items"]["anyOf"][0] == {"const": "value1", "title": "First Choice"}
    assert defaults["content"][0]["text"].startswith("Elicitation completed: action=accept")
    assert enums["content"][0]["text"].startswith("Elicitation completed: action=accept")


async def test_resource_and_prompt_fixtures(fixtures_host: FixturesHost, transport: str):
    async with _streams(fixtures_host, transport) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        text = _dump(await client.read_resource("test://static-text"))
        binary = _dump(await client.read_resource("test://static-binary"))
        templated = _dump(await client.read_resource("test://template/123/data"))
        simple = _dump(await client.get_prompt("test_simple_prompt"))
        with_args = _dump(
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "hello", "arg2": "world"})
        )
        embedded = _dump(
            await client.get_prompt(
                "test_prompt_with_embedded_resource", {"resourceUri": "test://example-resource"}
            )
        )
        image = _dump(await client.get_prompt("test_prompt_with_image"))

    assert text["contents"] == [
        {
            "uri": "test://static-text",
            "mimeType": "text/plain",
            "text": "This is the content of the static text resource.",
        }
    ]
    [blob] = binary["contents"]
    assert blob["mimeType"] == "image/png"
    assert base64.b64decode(blob["blob"]).startswith(b"\x89PNG")
    [data] = templated["contents"]
    assert (data["uri"], data["mimeType"]) == ("test://template/123/data", "application/json")
    assert json.loads(data["text"]) == {"id": "123", "templateTest": True, "data": "Data for ID: 123"}

    assert simple["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}
    ]
    assert with_args["messages"][0]["content"]["text"] == "Prompt with arguments: arg1='hello', arg2='world'"
    assert embedded["messages"][0]["content"] == {
        "type": "resource",
        "resource": {
            "uri": "test://example-resource",
            "mimeType": "text/plain",
            "text": "Embedded resource content for testing.",
        },
    }
    assert embedded["messages"][1]["content"]["text"] == "Please process the embedded resource above."
    assert image["messages"][0]["content"]["type"] == "image"
    assert image["messages"][1]["content"]["text"] == "Please analyze the image above."
