"""The plugin CONTRIBUTING.md teaches works as written: packaged, pip-installed, served."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp_types import PromptReference

from mcp_host.testing import run_host

pytestmark = pytest.mark.anyio

CONTRIBUTING = Path(__file__).parent.parent / "CONTRIBUTING.md"


def _code_block_after(marker: str, language: str) -> str:
    text = CONTRIBUTING.read_text()
    start = text.index(marker)
    match = re.compile(rf"```{language}\n(.*?)```", re.DOTALL).search(text, start)
    assert match, f"no {language} block after {marker!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def shout_env(make_scratch_env, tmp_path_factory):
    package = tmp_path_factory.mktemp("mcp-host-shout")
    (package / "pyproject.toml").write_text(_code_block_after("### 1. The package", "toml"))
    (package / "mcp_host_shout").mkdir()
    (package / "mcp_host_shout" / "__init__.py").write_text(_code_block_after("A complete plugin:", "python"))
    env = make_scratch_env()
    env.pip_install(package)
    return env


async def test_the_contributing_example_plugin_serves_tools_resources_prompts_and_state(shout_env):
    config = "[plugins.shout]\nexclamations = 2\n"
    with run_host(config, python=shout_env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            shouted = await client.call_tool("shout", {"text": "hi"})
            await client.call_tool("shout", {"text": "again"})
            count = await client.call_tool("shout_count", {})
            empty = await client.call_tool("shout", {"text": " "})
            about = await client.read_resource("shout://about")
            prompt = await client.get_prompt("announce", {"news": "tea"})
            ideas = await client.complete(
                PromptReference(type="ref/prompt", name="announce"), {"name": "news", "value": "g"}
            )
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as other:
            await other.initialize()
            other_count = await other.call_tool("shout_count", {})
    assert shouted.content[0].text == "HI!!"  # type: ignore[union-attr]
    assert count.structured_content == {"result": 2}
    assert empty.is_error
    assert "text must not be empty" in empty.content[0].text  # type: ignore[union-attr]
    assert about.contents[0].text == "Shouting, politely."  # type: ignore[union-attr]
    assert prompt.messages[0].content.text == "Announce this loudly: tea"  # type: ignore[union-attr]
    assert other_count.structured_content == {"result": 0}
    assert ideas.completion.values == ["good news", "great news"]


def test_a_setting_out_of_range_names_the_key(shout_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[plugins.shout]\nexclamations = 9\n")
    result = shout_env.mcp_host("serve", "--config", str(config))
    assert result.returncode == 2
    assert "plugins.shout.exclamations: input should be less than or equal to 5 (got 9)" in result.stderr
