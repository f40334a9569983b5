"""The conformance fixtures plugin, installed with pip as users install plugins, and a host serving it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mcp_host.testing import LiveHost, run_host

if TYPE_CHECKING:
    from tests.conftest import ScratchEnv

FIXTURES_DIST = Path(__file__).parent / "fixtures_plugin"

# What the fixtures plugin serves: the names the conformance scenarios ask for.
TOOLS = {
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_error_handling",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "test_reconnection",
    # Scenarios of revision 2026-07-28 (current_revision.py)
    "test_input_required_result_elicitation",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
    "test_input_required_result_request_state",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_multi_round",
    "test_input_required_result_tampered_state",
    "test_input_required_result_capabilities",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_logging_tool",
    "test_trigger_tool_change",
    "test_trigger_prompt_change",
    "test_x_mcp_header",
    "json_schema_2020_12_tool",
}
RESOURCES = {"test://static-text", "test://static-binary", "test://watched-resource"}
RESOURCE_TEMPLATES = {"test://template/{id}/data"}
COMPLETIONS = {"complete:test_prompt_with_arguments"}
PROMPTS = {
    "test_simple_prompt",
    "test_prompt_with_arguments",
    "test_prompt_with_embedded_resource",
    "test_prompt_with_image",
    "test_input_required_result_prompt",
}


@dataclass
class FixturesHost:
    host: LiveHost
    calls_file: Path

    def calls(self) -> list[str]:
        """The fixtures called so far, in order: one name per call."""
        return self.calls_file.read_text().split() if self.calls_file.exists() else []


@pytest.fixture(scope="session")
def fixtures_env(make_scratch_env: Callable[..., ScratchEnv]) -> ScratchEnv:
    env = make_scratch_env()
    env.pip_install(FIXTURES_DIST)
    return env


@pytest.fixture(scope="module")
def fixtures_host(
    fixtures_env: ScratchEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FixturesHost]:
    """A host serving only the fixtures plugin, which records its calls."""
    calls_file = tmp_path_factory.mktemp("conformance") / "calls.txt"
    config = f"""
[server]
name = "conformance-host"
plugins = ["conformance_fixtures"]

[plugins.conformance_fixtures]
calls_file = "{calls_file}"
"""
    with run_host(config, python=fixtures_env.python) as host:
        yield FixturesHost(host, calls_file)
