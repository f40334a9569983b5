"""``[auth.oauth]`` as written: its mistakes name the file and the key, and its grants decide
what a token opens; and how a plugin author tests a tool as a given caller. The provider
itself is exercised in tests/clients/test_oauth.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mcp.server.auth.provider import AccessToken

from mcp_host import Caller, current_session, hookimpl
from mcp_host.access_rules import AccessRules
from mcp_host.config import AccessGrant
from mcp_host.testing import start_host, text_of
from tests.wire import QUIET

OAUTH = '[auth.oauth]\nissuer = "https://idp.example.com"\naudience = "https://mcp.example.com/"\n'


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        (
            '[auth.oauth]\nissuer = "idp.example.com"\naudience = "https://mcp.example.com/"\n',
            "auth.oauth.issuer: must be an http:// or https:// URL",
        ),
        (
            '[auth.oauth]\nissuer = "https://idp.example.com"\n',
            "auth.oauth.audience: required key is missing",
        ),
        (
            OAUTH + '[[auth.oauth.grants]]\nservers = ["default"]\n',
            "auth.oauth.grants.0: give either 'scope', or 'claim' with 'value'",
        ),
        (
            OAUTH + '[[auth.oauth.grants]]\nservers = ["default"]\nclaim = "groups"\n',
            "auth.oauth.grants.0: 'claim' and 'value' go together",
        ),
        (
            OAUTH + '[[auth.oauth.grants]]\nservers = ["reserch"]\nscope = "mcp:research"\n',
            "auth.oauth.grants.0.servers: no server is named 'reserch' (servers: default)",
        ),
        (
            '[server]\ncache_scope = "public"\n' + OAUTH + '[[auth.oauth.grants]]\nservers = ["default"]\n'
            'tools = ["whoami"]\nscope = "a"\n',
            "server.cache_scope: must be 'private': [[auth.oauth.grants]] give some users only some",
        ),
        (
            OAUTH + 'introspection_client_id = "mcp-host"\n',
            "auth.oauth: 'introspection_client_id' and 'introspection_client_secret' go together",
        ),
        (
            OAUTH + 'algorithms = ["HS256"]\n',
            "auth.oauth.algorithms: unknown or unsafe ['HS256']; use some of RS256",
        ),
        (
            OAUTH + "clock_skew_s = -1\n",
            "auth.oauth.clock_skew_s: input should be greater than or equal to 0",
        ),
    ],
)
def test_a_mistake_in_auth_oauth_exits_2_naming_the_file_and_key(config_text, expected, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(config_text)
    result = subprocess.run(
        [sys.executable, "-m", "mcp_host", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert f"{config}: {expected}" in result.stderr
    assert "Traceback" not in result.stderr


def _token(*scopes: str) -> AccessToken:
    return AccessToken(token="t", client_id="c", scopes=list(scopes))


def test_without_grants_the_scope_mcp_server_opens_each_server():
    rules = AccessRules([], ["default", "research"])
    assert rules.grant(_token("mcp:research"), {}).servers == {"research": None}
    assert rules.scopes_for("default") == ["mcp:default"]


def test_grants_add_up_and_a_whole_server_wins_over_some_of_its_tools():
    rules = AccessRules(
        [
            AccessGrant(servers=["default"], tools=["whoami"], claim="groups", value="staff"),
            AccessGrant(servers=["default"], tools=["payroll"], scope="payroll"),
            AccessGrant(servers=["default", "research"], scope="admin"),
        ],
        ["default", "research"],
    )
    staff = rules.grant(_token("payroll"), {"groups": ["staff"]})
    assert staff.servers == {"default": frozenset({"whoami", "payroll"})}
    assert rules.grant(_token("payroll", "admin"), {}).servers == {"default": None, "research": None}
    assert rules.grant(_token(), {"groups": "staff"}).servers == {"default": frozenset({"whoami"})}
    assert rules.grant(_token(), {"groups": ["guests"]}).servers == {}
    # What a client may step up to for a tool: the scopes of the grants that open it.
    assert rules.scopes_for("default", "payroll") == ["payroll", "admin"]
    assert rules.scopes_for("default", "whoami") == ["admin"]


def test_the_readmes_oauth_example_is_a_valid_config_naming_every_key(monkeypatch):
    from mcp_host.config import OAuthSection, parse_config
    from tests.test_docs import README, block_starting

    example = block_starting(README, "toml", "[auth.oauth]\n")
    monkeypatch.setenv("MCP_HOST_INTROSPECTION_SECRET", "a-secret-from-the-environment")
    config = parse_config(example + "\n[servers.research]\n", "README.md")
    assert config.auth.oauth is not None
    assert [grant.claim for grant in config.auth.oauth.grants] == [None, "groups"]
    keys = {line.split("=")[0].strip() for line in example.splitlines() if "=" in line.split("#")[0]}
    assert set(OAuthSection.model_fields) - {"grants"} <= keys
    assert set(AccessGrant.model_fields) <= keys


class _ActsForTheCaller:
    """A plugin whose tool acts for the user calling it."""

    @hookimpl
    def register_tools(self, register):
        def my_name() -> str:
            caller = current_session().caller
            return "nobody" if caller is None else f"{caller.subject} ({', '.join(caller.scopes)})"

        register(my_name)


@pytest.mark.anyio
async def test_a_plugin_author_tests_a_tool_as_a_given_caller():
    async with start_host(QUIET, plugins={"acts": _ActsForTheCaller()}, discover=False) as host:
        alice = Caller(
            client_id="cursor", subject="alice", issuer="https://idp.example.com", scopes=("mcp:tools",)
        )
        async with host.connect(caller=alice) as client:
            assert text_of(await client.call_tool("my_name", {})) == "alice (mcp:tools)"
        async with host.connect() as client:
            assert text_of(await client.call_tool("my_name", {})) == "nobody"
