"""A config mistake ends the program with exit 2 and one message naming the key: no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from mcp_host import hookimpl
from mcp_host.config import ConfigError, parse_config
from mcp_host.host import prepare_host


def _serve(config_text: str | None, tmp_path, *extra: str, env=None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "mcp_host", "serve", *extra]
    if config_text is not None:
        config = tmp_path / "config.toml"
        config.write_text(config_text)
        args += ["--config", str(config)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        ("[server\nport = 1", "invalid TOML: Expected ']' at the end of a table declaration (at line 1"),
        (
            "[server]\nprot = 8000",
            "server.prot: unknown key; expected one of: cache_scope, host, http, instructions, keepalive_s",
        ),
        ("[server]\nport = 'eighty'", "server.port: input should be a valid integer"),
        ("[server]\nport = 70000", "server.port: input should be less than or equal to 65535 (got 70000)"),
        (
            "[plugins.nonexistent]\nanswer = 42",
            "plugins.nonexistent: no installed plugin is named 'nonexistent'",
        ),
        (
            "[servers.research]\nplugins = ['nowhere']",
            "servers.research.plugins: no installed plugin is named 'nowhere'",
        ),
        ("[servers.'bad name']\n", "servers: server name 'bad name' must be letters"),
        (
            "[server]\nname = '${env:MCP_HOST_TEST_UNSET}'",
            "server.name: environment variable 'MCP_HOST_TEST_UNSET' is not set",
        ),
    ],
)
def test_invalid_config_exits_2_naming_the_key(config_text, expected, tmp_path):
    result = _serve(config_text, tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert str(tmp_path / "config.toml") in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mcp_host", "--config", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"mcp-host: {tmp_path / 'nope.toml'}: no such file"


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as error:
        parse_config("[server]\nport = -1\nhost = ''\n", "c.toml")
    assert str(error.value).splitlines()[0] == "c.toml: 2 problems"
    assert {problem.key_path for problem in error.value.problems} == {"server.port", "server.host"}


def test_secrets_come_from_the_environment_and_files(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n")
    monkeypatch.setenv("MCP_HOST_TEST_NAME", "from-env")
    config = parse_config(
        f"""
[server]
name = "${{env:MCP_HOST_TEST_NAME}}"
instructions = "key=${{file:{token_file}}}; literal=$${{env:X}}"
"""
    )
    assert config.server.name == "from-env"
    assert config.server.instructions == "key=s3cret; literal=${env:X}"


def test_unreadable_secret_file_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"servers\.a\.instructions: cannot read secret file '.*missing'"):
        parse_config(f"[servers.a]\ninstructions = '${{file:{tmp_path}/missing}}'")


def test_command_line_overrides_the_file(tmp_path):
    result = _serve("[server]\nport = 8000\n", tmp_path, "--port", "99999")
    assert result.returncode == 2
    assert "argument --port: must be between 0 and 65535, not 99999" in result.stderr


@pytest.mark.parametrize(
    ("plugin_table", "expected"),
    [
        ("start = 'ten'", "plugins.counter.start: input should be a valid integer"),
        ("colour = 'red'", "plugins.counter.colour: unknown key; expected one of: events_file, start"),
        ("disabled_tools = ['nope']", "plugins.counter.disabled_tools: 'counter' has no tool named 'nope'"),
    ],
)
def test_invalid_plugin_settings_exit_2_naming_the_key(plugin_table, expected, plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f"[plugins.counter]\n{plugin_table}\n")
    result = plugin_env.mcp_host("serve", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_validators_own_sentence_is_shown_as_it_is():
    with pytest.raises(ConfigError) as error:
        parse_config("[server]\nroot_path = 'tools'\n", "c.toml")
    assert str(error.value) == "c.toml: server.root_path: must start with '/'"


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        ("[server]\nport = '8000'", "c.toml: server.port: input should be a valid integer (got '8000')"),
        ("[server]\nport = 8000.0", "c.toml: server.port: input should be a valid integer (got 8000.0)"),
        (
            "[plugins.x]\nenabled = 'no'",
            "c.toml: plugins.x.enabled: input should be a valid boolean (got 'no')",
        ),
        (
            "[limits]\ncall_timeout_s = '30'",
            "c.toml: limits.call_timeout_s: input should be a valid number (got '30')",
        ),
        (
            "[security]\ndns_rebinding_protection = 0",
            "c.toml: security.dns_rebinding_protection: input should be a valid boolean (got 0)",
        ),
    ],
)
def test_values_are_taken_as_the_type_they_are_written_in(config_text, expected):
    with pytest.raises(ConfigError) as error:
        parse_config(config_text, "c.toml")
    assert str(error.value) == expected


def test_an_integer_is_a_valid_number_of_seconds():
    config = parse_config("[server]\nkeepalive_s = 15\n[limits]\ncall_timeout_s = 30\n")
    assert (config.server.keepalive_s, config.limits.call_timeout_s) == (15.0, 30.0)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = 3
    data_dir: Path = Path("/tmp")


class _LaxSettings(_Settings):
    model_config = ConfigDict(extra="forbid", strict=False)


def _plugin_with(settings: type[BaseModel]) -> object:
    class Plugin:
        @hookimpl
        def plugin_settings(self) -> type[BaseModel]:
            return settings

    return Plugin()


def test_plugin_settings_are_strict_too_and_a_path_is_still_a_string():
    config = parse_config("[plugins.p]\ndays = '3'\ndata_dir = '/srv'\n", "c.toml")
    strict = prepare_host(config, "c.toml", discover=False, extra_plugins=[("p", _plugin_with(_Settings))])
    assert [str(problem) for problem in strict.problems] == [
        "plugins.p.days: input should be a valid integer (got '3')"
    ]

    fine = parse_config("[plugins.p]\ndays = 3\ndata_dir = '/srv'\n", "c.toml")
    served = prepare_host(fine, "c.toml", discover=False, extra_plugins=[("p", _plugin_with(_Settings))])
    assert served.problems == []
    assert served.plugins.records["p"].settings == _Settings(days=3, data_dir=Path("/srv"))


def test_a_plugin_opts_out_of_strict_settings_in_its_model_config():
    config = parse_config("[plugins.p]\ndays = '3'\n", "c.toml")
    lax = prepare_host(config, "c.toml", discover=False, extra_plugins=[("p", _plugin_with(_LaxSettings))])
    assert lax.problems == []
    assert lax.plugins.records["p"].settings.days == 3


SECRET = "hunter2-0123456789-secret"


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        (
            "[server]\nport = '${env:MCP_HOST_TEST_SECRET}'",
            "server.port: input should be a valid integer (got '${env:MCP_HOST_TEST_SECRET}')",
        ),
        (
            "[server]\nkeepalive_s = 'x${file:/proc/self/environ}'",
            "server.keepalive_s: input should be a valid number (got 'x${file:/proc/self/environ}')",
        ),
        (
            "[auth]\ntokens = { name = 'a', token = '${env:MCP_HOST_TEST_SECRET}' }",
            "auth.tokens: input should be a valid array "
            "(got {'name': 'a', 'token': '${env:MCP_HOST_TEST_SECRET}'})",
        ),
        (
            "[cluster]\nredis_url = ['hunter2-0123456789-secret']",
            "cluster.redis_url: input should be a valid string (got '**********')",
        ),
    ],
)
def test_config_errors_show_secrets_as_their_reference_or_masked(config_text, expected, tmp_path):
    result = _serve(config_text, tmp_path, env={**os.environ, "MCP_HOST_TEST_SECRET": SECRET})
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert SECRET not in result.stderr
    assert "PATH=" not in result.stderr


def test_plugin_settings_errors_show_secrets_as_their_reference(plugin_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[plugins.counter]\nstart = '${env:MCP_HOST_TEST_SECRET}'\n")
    result = subprocess.run(
        [plugin_env.python, "-m", "mcp_host", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MCP_HOST_TEST_SECRET": SECRET},
    )
    assert result.returncode == 2, result.stderr
    assert "plugins.counter.start: input should be a valid integer (got '${env:MCP_HOST_TEST_SECRET}')" in (
        result.stderr + result.stdout
    )
    assert SECRET not in result.stderr + result.stdout
