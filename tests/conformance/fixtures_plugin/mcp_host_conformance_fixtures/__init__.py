"""The fixtures the MCP conformance suite's server scenarios call, served as a plain plugin.

Names, arguments and answers follow the scenario sources of ``@modelcontextprotocol/conformance``
(``src/scenarios/server/*.ts`` in the pinned version). Each fixture appends its name to
``calls_file`` when called, so a test can tell a scenario that reached its fixture from one
that passed without it.
"""

import asyncio
import base64
import io
import json
import struct
import warnings
import wave
import zlib
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import (
    AudioContent,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    SamplingMessage,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel, ConfigDict, Field

from mcp_host import PluginChanges, ToolError, hookimpl
from mcp_host_conformance_fixtures import current_revision

# Logging and sampling are deprecated from protocol 2026-07-28 on (SEP-2577), and the SDK
# warns at every use. The scenarios test them on 2025 connections on purpose.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning, module=__name__)


class FixtureSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls_file: str | None = Field(None, description="Where every fixture call appends its name.")


def _png_1x1_red() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _wav_silence() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x00" * 80)  # 10 ms
    return buffer.getvalue()


PNG = _png_1x1_red()
WAV = _wav_silence()
PNG_BASE64 = base64.b64encode(PNG).decode()
WAV_BASE64 = base64.b64encode(WAV).decode()

SEP1034_DEFAULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "score": {"type": "number", "default": 95.5},
        "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
        "verified": {"type": "boolean", "default": True},
    },
}

SEP1330_ENUMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}


@hookimpl
def plugin_settings():
    return FixtureSettings


_changes: list[PluginChanges] = []
"""What the host gave ``host_started``, for the fixtures that announce list changes."""


@hookimpl
def host_started(changes: PluginChanges) -> None:
    _changes[:] = [changes]


def _recorder(settings: FixtureSettings):
    def called(name: str) -> None:
        if settings.calls_file:
            with Path(settings.calls_file).open("a", encoding="utf-8") as calls:
                calls.write(name + "\n")

    return called


async def _elicit(ctx: Context, fixture: str, message: str, schema: dict[str, Any]) -> str:
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.elicitation is None:
        raise ToolError(f"{fixture} needs a client that supports elicitation")
    answer = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
    return f"action={answer.action}, content={json.dumps(answer.content)}"


@hookimpl
def register_tools(register, settings: FixtureSettings):
    called = _recorder(settings)

    async def test_simple_text() -> str:
        """Returns a simple text response."""
        called("test_simple_text")
        return "This is a simple text response for testing."

    async def test_image_content() -> ImageContent:
        """Returns a 1x1 red PNG image."""
        called("test_image_content")
        return ImageContent(data=PNG_BASE64, mime_type="image/png")

    async def test_audio_content() -> AudioContent:
        """Returns a short WAV clip of silence."""
        called("test_audio_content")
        return AudioContent(data=WAV_BASE64, mime_type="audio/wav")

    async def test_embedded_resource() -> EmbeddedResource:
        """Returns an embedded text resource."""
        called("test_embedded_resource")
        return EmbeddedResource(
            resource=TextResourceContents(
                uri="test://embedded-resource",
                mime_type="text/plain",
                text="This is an embedded resource content.",
            )
        )

    async def test_multiple_content_types() -> list[ContentBlock]:
        """Returns text, an image and an embedded resource."""
        called("test_multiple_content_types")
        return [
            TextContent(text="Multiple content types test:"),
            ImageContent(data=PNG_BASE64, mime_type="image/png"),
            EmbeddedResource(
                resource=TextResourceContents(
                    uri="test://mixed-content-resource",
                    mime_type="application/json",
                    text=json.dumps({"test": "data", "value": 123}),
                )
            ),
        ]

    async def test_tool_with_logging(ctx: Context) -> str:
        """Sends three info log notifications while it runs."""
        called("test_tool_with_logging")
        await ctx.log("info", "Tool execution started")
        await asyncio.sleep(0.05)
        await ctx.log("info", "Tool processing data")
        await asyncio.sleep(0.05)
        await ctx.log("info", "Tool execution completed")
        return "Tool with logging executed successfully"

    async def test_tool_with_progress(ctx: Context) -> str:
        """Reports progress 0, 50 and 100 of 100 while it runs."""
        called("test_tool_with_progress")
        await ctx.report_progress(0, 100)
        await asyncio.sleep(0.05)
        await ctx.report_progress(50, 100)
        await asyncio.sleep(0.05)
        await ctx.report_progress(100, 100)
        return "Tool with progress executed successfully"

    async def test_error_handling() -> str:
        """Always fails."""
        called("test_error_handling")
        raise ToolError("This tool intentionally returns an error for testing")

    async def test_sampling(prompt: str, ctx: Context) -> str:
        """Asks the client's model to answer `prompt`."""
        called("test_sampling")
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.sampling is None:
            raise ToolError("test_sampling needs a client that supports sampling")
        answer = await ctx.session.create_message(
            messages=[SamplingMessage(role="user", content=TextContent(text=prompt))],
            max_tokens=100,
            related_request_id=ctx.request_id,
        )
        text = answer.content.text if isinstance(answer.content, TextContent) else str(answer.content)
        return f"LLM response: {text}"

    async def test_elicitation(message: str, ctx: Context) -> str:
        """Asks the user for a username and an email address."""
        called("test_elicitation")
        schema = {
            "type": "object",
            "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"},
            },
            "required": ["username", "email"],
        }
        return "User response: " + await _elicit(ctx, "test_elicitation", message, schema)

    async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        """Asks the user for fields of every primitive type, each with a default (SEP-1034)."""
        called("test_elicitation_sep1034_defaults")
        outcome = await _elicit(
            ctx, "test_elicitation_sep1034_defaults", "Please review your details", SEP1034_DEFAULTS_SCHEMA
        )
        return "Elicitation completed: " + outcome

    async def test_elicitation_sep1330_enums(ctx: Context) -> str:
        """Asks the user to choose from the five kinds of enum (SEP-1330)."""
        called("test_elicitation_sep1330_enums")
        outcome = await _elicit(
            ctx, "test_elicitation_sep1330_enums", "Please choose your options", SEP1330_ENUMS_SCHEMA
        )
        return "Elicitation completed: " + outcome

    async def test_reconnection(ctx: Context) -> str:
        """Closes its SSE response stream mid-call; the client resumes it to get the result (SEP-1699)."""
        called("test_reconnection")
        await ctx.close_sse_stream()
        await asyncio.sleep(0.2)
        return "Reconnection test completed"

    for tool in (
        test_simple_text,
        test_image_content,
        test_audio_content,
        test_embedded_resource,
        test_multiple_content_types,
        test_tool_with_logging,
        test_tool_with_progress,
        test_error_handling,
        test_sampling,
        test_elicitation,
        test_elicitation_sep1034_defaults,
        test_elicitation_sep1330_enums,
        test_reconnection,
        *current_revision.tools(called, lambda: _changes[0] if _changes else None),
    ):
        register(tool)
    register(
        current_revision.json_schema_2020_12_tool(called),
        input_schema=current_revision.JSON_SCHEMA_2020_12,
    )


@hookimpl
def register_resources(register, settings: FixtureSettings):
    called = _recorder(settings)

    def static_text() -> str:
        """A static text resource."""
        called("test://static-text")
        return "This is the content of the static text resource."

    def static_binary() -> bytes:
        """A static binary resource: a 1x1 red PNG."""
        called("test://static-binary")
        return PNG

    def template_data(id: str) -> str:
        """Data for one id, from a resource template."""
        called("test://template/{id}/data")
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    def watched_resource() -> str:
        """A resource clients may subscribe to."""
        called("test://watched-resource")
        return "Watched resource content"

    register(static_text, "test://static-text", name="static-text", mime_type="text/plain")
    register(static_binary, "test://static-binary", name="static-binary", mime_type="image/png")
    register(template_data, "test://template/{id}/data", name="template-data", mime_type="application/json")
    register(watched_resource, "test://watched-resource", name="watched-resource", mime_type="text/plain")


@hookimpl
def register_prompts(register, settings: FixtureSettings):
    called = _recorder(settings)

    def test_simple_prompt() -> str:
        """A prompt without arguments."""
        called("test_simple_prompt")
        return "This is a simple prompt for testing."

    def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
        """A prompt with two required arguments."""
        called("test_prompt_with_arguments")
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
        """A prompt that embeds the resource at `resourceUri`."""
        called("test_prompt_with_embedded_resource")
        resource = TextResourceContents(
            uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
        )
        return [
            UserMessage(EmbeddedResource(resource=resource)),
            UserMessage("Please process the embedded resource above."),
        ]

    def test_prompt_with_image() -> list[UserMessage]:
        """A prompt with an image."""
        called("test_prompt_with_image")
        return [
            UserMessage(ImageContent(data=PNG_BASE64, mime_type="image/png")),
            UserMessage("Please analyze the image above."),
        ]

    for prompt in (
        test_simple_prompt,
        test_prompt_with_arguments,
        test_prompt_with_embedded_resource,
        test_prompt_with_image,
        *current_revision.prompts(called),
    ):
        register(prompt)


COMPLETIONS = {"arg1": ["test", "testing", "tested", "other"], "arg2": ["alpha", "beta"]}
"""What the completion of test_prompt_with_arguments offers, by argument."""


@hookimpl
def register_completions(register, settings: FixtureSettings):
    called = _recorder(settings)

    def complete_prompt_arguments(argument: str, value: str, context: dict[str, str]) -> list[str]:
        called("complete:test_prompt_with_arguments")
        return [choice for choice in COMPLETIONS.get(argument, []) if choice.startswith(value)]

    register(complete_prompt_arguments, prompt="test_prompt_with_arguments")
