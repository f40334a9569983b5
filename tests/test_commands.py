"""The operator's commands, run as a user runs them: check, init, schema, tools, cursor."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib

import jsonschema
import pytest

from mcp_host.testing import run_host

from .wire import QUIET


@pytest.fixture
def config(tmp_path):
    def write(text: str):
        path = tmp_path / "config.toml"
        path.write_text(text)
        return str(path)

    return write


# --- check ------------------------------------------------------------------------------------


def test_check_passes_a_good_config(plugin_env, config):
    result = plugin_env.mcp_host("check", "--config", config(QUIET))
    assert result.returncode == 0, result.stderr
    assert ": ok: 1 servers," in result.stdout
    assert "counter" in result.stdout


def test_check_fails_on_a_config_mistake_or_a_broken_plugin(plugin_env, config):
    mistake = plugin_env.mcp_host("check", "--config", config("[plugins.counter]\nstart = 'x'\n" + QUIET))
    assert mistake.returncode == 2
    assert "plugins.counter.start: input should be a valid integer" in mistake.stderr
    broken = plugin_env.mcp_host("check", "--config", config(""))
    assert broken.returncode == 2
    assert "plugin 'broken' (mcp-host-broken 0.0.1) failed: failed to import" in broken.stderr
    assert ": not ok:" in broken.stdout


def test_check_warns_where_cursor_would_stumble(plugin_env, config):
    long_name = "a-server-name-that-is-rather-long-indeed-so-long-it-hurts"
    result = plugin_env.mcp_host("check", "--config", config(f"[server]\nname = '{long_name}'\n" + QUIET))
    assert result.returncode == 0
    assert f"Cursor drops tool 'increment': with the server key '{long_name}'" in result.stderr
    assert "warnings" in result.stdout


# --- init -------------------------------------------------------------------------------------


def test_init_writes_every_installed_plugin_with_its_defaults_and_never_overwrites(plugin_env, tmp_path):
    path = tmp_path / "starter.toml"
    written = plugin_env.mcp_host("init", str(path))
    assert written.returncode == 0, written.stderr
    document = tomllib.loads(path.read_text())
    assert document["plugins"]["counter"] == {"enabled": True, "start": 0}
    assert document["plugins"]["echo"] == {"enabled": True, "shout": False}
    assert document["plugins"]["broken"] == {"enabled": False}
    assert "# start: First value of every client's counter." in path.read_text()
    # The file it wrote is a config that passes the check.
    assert plugin_env.mcp_host("check", "--config", str(path)).returncode == 0

    path.write_text("# mine\n")
    again = plugin_env.mcp_host("init", str(path))
    assert again.returncode == 2
    assert "exists; nothing was written (--force overwrites it)" in again.stderr
    assert path.read_text() == "# mine\n"
    assert plugin_env.mcp_host("init", str(path), "--force").returncode == 0


def test_init_creates_missing_folders_or_says_in_one_line_why_it_cannot(plugin_env, tmp_path):
    nested = tmp_path / "deploy" / "prod" / "config.toml"
    written = plugin_env.mcp_host("init", str(nested))
    assert written.returncode == 0, written.stderr
    assert plugin_env.mcp_host("check", "--config", str(nested)).returncode == 0

    (tmp_path / "a-file").write_text("")
    refused = plugin_env.mcp_host("init", str(tmp_path / "a-file" / "config.toml"))
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert refused.stderr.startswith(f"mcp-host: cannot write {tmp_path / 'a-file' / 'config.toml'}: ")


# --- schema -----------------------------------------------------------------------------------


def test_schema_describes_the_host_and_every_plugins_settings(plugin_env):
    result = plugin_env.mcp_host("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    definitions = schema["$defs"]
    counter = definitions["CounterPlugin"]
    assert counter["properties"]["start"]["type"] == "integer"
    assert counter["properties"]["prefix"]["type"] == "string"
    assert counter["additionalProperties"] is False
    assert "server" in schema["properties"]
    assert definitions["ServerSection"]["properties"]["port"]["maximum"] == 65535

    validator = jsonschema.Draft202012Validator(schema)
    good = tomllib.loads("[server]\nport = 8000\n[plugins.counter]\nstart = 3\n")
    bad = tomllib.loads("[plugins.counter]\nstart = 'three'\n")
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors(bad))


# --- tools ------------------------------------------------------------------------------------


def test_tools_lists_each_servers_tools_with_their_schemas(plugin_env, config):
    path = config("[servers.counting]\nplugins = ['counter']\ntools = ['increment']\n" + QUIET)
    result = plugin_env.mcp_host("tools", "--config", path, "--json")
    assert result.returncode == 0, result.stderr
    servers = json.loads(result.stdout)["servers"]
    [increment] = servers["counting"]["tools"]
    assert increment["name"] == "increment"
    assert increment["plugin"] == "counter"
    assert increment["input_schema"]["properties"]["by"]["default"] == 1
    assert servers["counting"]["paths"] == {
        "streamable_http": "/servers/counting/mcp",
        "sse": "/servers/counting/sse",
    }

    text = plugin_env.mcp_host("tools", "--config", path, "--server", "counting")
    assert "increment  (counter)  Add `by` to this client's counter" in text.stdout
    assert "by: integer (default 1)" in text.stdout
    unknown = plugin_env.mcp_host("tools", "--config", path, "--server", "nope")
    assert unknown.returncode == 2
    assert "no server named 'nope' (servers: default, counting)" in unknown.stderr


# --- cursor -----------------------------------------------------------------------------------


def test_cursor_prints_and_merges_the_entry(plugin_env, config, tmp_path):
    path = config("[server]\nname = 'tools'\nport = 8123\n" + QUIET)
    printed = plugin_env.mcp_host("cursor", "--config", path)
    assert json.loads(printed.stdout) == {"mcpServers": {"tools": {"url": "http://127.0.0.1:8123/mcp"}}}

    mcp_json = tmp_path / ".cursor" / "mcp.json"
    mcp_json.parent.mkdir()
    mcp_json.write_text(json.dumps({"mcpServers": {"other": {"command": "x"}}}))
    merged = plugin_env.mcp_host("cursor", "--config", path, "--write", str(mcp_json))
    assert merged.returncode == 0, merged.stderr
    assert "added 'tools'" in merged.stdout
    assert json.loads(mcp_json.read_text())["mcpServers"] == {
        "other": {"command": "x"},
        "tools": {"url": "http://127.0.0.1:8123/mcp"},
    }


def test_cursor_entry_carries_the_token_from_the_environment_when_auth_is_on(plugin_env, config):
    path = config("[[auth.tokens]]\nname = 'me'\ntoken = '0123456789abcdef0123'\n" + QUIET)
    printed = json.loads(plugin_env.mcp_host("cursor", "--config", path).stdout)
    assert printed["mcpServers"]["mcp-host"]["headers"] == {"Authorization": "Bearer ${env:MCP_HOST_TOKEN}"}


def test_cursor_takes_the_address_the_host_is_started_with(plugin_env, config):
    path = config("[server]\nport = 8123\n[servers.side]\nname = 'side'\n" + QUIET)
    printed = plugin_env.mcp_host(
        "cursor", "--config", path, "--host", "0.0.0.0", "--port", "18700", "--server", "side"
    )
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == {
        "mcpServers": {"side": {"url": "http://127.0.0.1:18700/servers/side/mcp"}}
    }

    picked = plugin_env.mcp_host("cursor", "--config", path, "--port", "0")
    assert picked.returncode == 2
    assert "--port 0 lets the host pick its port when it starts: give the port it logged" in picked.stderr


def test_cursor_global_writes_the_users_own_mcp_json(plugin_env, tmp_path):
    home = tmp_path / "home"
    written = subprocess.run(
        [plugin_env.python, "-m", "mcp_host", "cursor", "--global", "--port", "8124"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home)},
        cwd=tmp_path,
    )
    assert written.returncode == 0, written.stderr
    assert json.loads((home / ".cursor" / "mcp.json").read_text()) == {
        "mcpServers": {"mcp-host": {"url": "http://127.0.0.1:8124/mcp"}}
    }
    assert not (tmp_path / ".cursor").exists()


@pytest.mark.anyio
async def test_the_cursor_entry_reaches_a_running_host(plugin_env):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    with run_host(QUIET, python=plugin_env.python) as host:
        port = host.base_url.rsplit(":", 1)[1]
        printed = plugin_env.mcp_host("cursor", "--port", port)
        url = json.loads(printed.stdout)["mcpServers"]["mcp-host"]["url"]
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            assert (await client.list_tools()).tools
