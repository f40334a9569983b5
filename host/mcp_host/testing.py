"""Test a plugin, or the host itself, against a real host: in process, or live over HTTP.

This module ships with mcp-host and is registered as a pytest plugin (the ``pytest11`` entry
point), so its fixtures are available in every test suite of an environment where mcp-host is
installed, with nothing to import or declare:

``mcp_host``
    ``async with mcp_host(toml) as host``: a host built from a TOML snippet, with its plugins
    discovered through their entry points and started, running in the test's own process;
    ``async with host.connect() as client`` gives an MCP client (``mcp.client.Client``) connected
    to a fresh server, exactly as a client connecting over HTTP gets one: the plugins' session
    hooks run when it connects and when it leaves.
``mcp_host_client``
    ``async with mcp_host_client(toml) as client``: the same, for the common case of one client.
``mcp_host_live``
    ``mcp_host_live(toml)``: ``mcp-host serve`` on a free loopback port in a child process (see
    ``run_host``), for SSE and Streamable HTTP clients; stopped when the test ends.
``mcp_host_plugin``
    ``mcp_host_plugin("name")``: loads the installed plugin through its entry point as the host
    does, checks its hooks against the specs and its settings, and fails with the host's error.

The pytest plugin only defines fixtures, every one named ``mcp_host*``: no hooks, nothing
autouse, so it changes nothing for a test suite that does not ask for them. Async tests need
``@pytest.mark.anyio`` and, because the host runs on asyncio, an ``anyio_backend`` fixture
returning ``"asyncio"`` in the project's ``conftest.py`` (this module does not define one: it
would clash with anyio's own).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import anyio
from mcp.client import Client
from mcp.client.client import ConnectMode
from mcp.shared.memory import create_client_server_memory_streams
from mcp_types import CallToolResult, TextContent

from mcp_host.blueprints import DEFAULT_SERVER, ServerBlueprint
from mcp_host.config import HostConfig, PluginEntry, parse_config
from mcp_host.hookspecs import PROJECT_NAME
from mcp_host.host import Host, prepare_host
from mcp_host.plugins import PluginRecord, PluginStatus
from mcp_host.programs import own_program
from mcp_host.servers import SESSION_ENDED_BUDGET_S, ServerFactory
from mcp_host.session import Caller, HostSession

__all__ = [
    "HostDidNotStart",
    "InProcessHost",
    "LiveHost",
    "PluginNotUsable",
    "assert_plugin_installed",
    "error_of",
    "run_host",
    "start_host",
    "start_host_and_connect",
    "text_of",
]

Config = str | Path
"""A host config: TOML text, or the path of a TOML file."""

STACK_VARIABLES = {"MCP_HOST_TEST_HTTP": "--http", "MCP_HOST_TEST_LOOP": "--loop"}
"""Environment variables ``run_host`` passes on to ``mcp-host serve`` as these options, so that
a whole test suite runs its live hosts on another HTTP parser or event loop than the fast
default: ``MCP_HOST_TEST_HTTP=h11 MCP_HOST_TEST_LOOP=asyncio python -m pytest``."""


def _read_config(config: Config) -> tuple[HostConfig, str]:
    if isinstance(config, Path):
        return parse_config(config.read_text(encoding="utf-8"), str(config)), str(config)
    return parse_config(config, "<test config>"), "<test config>"


# --- a host in the test's own process ------------------------------------------------------


class InProcessHost:
    """A started host, without HTTP: clients connect to it in memory."""

    def __init__(self, host: Host) -> None:
        self.host = host

    @property
    def records(self) -> Mapping[str, PluginRecord]:
        """What became of every discovered plugin, by name."""
        return self.host.plugins.records

    def plugin(self, name: str) -> Any:
        """The object the plugin's entry point named (a module, or an instance with hook methods)."""
        return self.records[name].plugin

    @property
    def session_count(self) -> int:
        """Clients connected right now."""
        return len(self.host.sessions)

    @asynccontextmanager
    async def connect(
        self,
        server: str = DEFAULT_SERVER,
        *,
        mode: ConnectMode = "legacy",
        caller: Caller | None = None,
        **client_options: Any,
    ) -> AsyncIterator[Client]:
        """Connect a new client to ``server`` (``"default"`` or a ``[servers.<name>]`` key).

        Like every client of the real host, it gets a server of its own, built from the same
        blueprint by the same factory, with the plugins' ``session_started`` hook run before
        its first request is answered and ``session_ended`` after it disconnects. ``mode`` is
        the SDK client's: ``"legacy"`` is the ``initialize`` handshake most clients use.
        ``caller`` is who the client is, as a token verified by the host would say: what
        ``current_session().caller`` answers in its session (``None``, as without tokens).
        ``client_options`` go to the SDK's ``Client`` as they are: ``logging_callback``,
        ``sampling_callback``, ``elicitation_callback`` and the like.
        """
        try:
            blueprint = self.host.blueprints[server]
        except KeyError:
            raise KeyError(f"no server {server!r}; the config has {sorted(self.host.blueprints)}") from None
        session = HostSession(id=uuid.uuid4().hex, server=server, transport="in-process", caller=caller)
        if mode == "legacy":
            # Served on streams as the transports serve them, ``logging/setLevel`` included.
            target: Any = _served_in_memory(self.host.factory, blueprint, session)
        else:
            # The modern modes call the server directly, without streams to serve.
            target = self.host.factory.build(blueprint, session)
        async with Client(target, mode=mode, **client_options) as client:
            yield client


@asynccontextmanager
async def _served_in_memory(
    factory: ServerFactory, blueprint: ServerBlueprint, session: HostSession
) -> AsyncIterator[tuple[Any, Any]]:
    """The client's ends of memory streams whose other ends the host's factory serves, as it
    serves an HTTP client's. Closing them is the client's disconnect: the session's
    ``session_ended`` hooks run before this returns (within their time budget)."""
    async with create_client_server_memory_streams() as (client_streams, (server_read, server_write)):
        served = anyio.Event()

        async def serve() -> None:
            try:
                await factory.serve(blueprint, session, server_read, server_write)
            finally:
                served.set()

        async with anyio.create_task_group() as group:
            group.start_soon(serve)
            try:
                yield client_streams
            finally:
                await client_streams[1].aclose()
                with anyio.move_on_after(SESSION_ENDED_BUDGET_S + 1):
                    await served.wait()
                if not served.is_set():
                    group.cancel_scope.cancel()


@asynccontextmanager
async def start_host(
    config: Config = "",
    *,
    plugins: Mapping[str, object] | None = None,
    discover: bool = True,
    strict: bool = True,
) -> AsyncIterator[InProcessHost]:
    """Build a host from ``config`` and run it, in this process, for the ``async with`` block.

    ``discover`` finds the installed plugins through their entry points, as ``mcp-host`` does;
    ``plugins`` adds plugin objects by name, installed or not. A mistake in the config raises
    ``ConfigError`` with the host's message. With ``strict`` (the default in tests), a plugin that
    fails to load, to configure or to start raises ``StrictModeError`` naming it and its error;
    turn it off to test how the host serves the others without it.
    """
    host_config, source = _read_config(config)
    host = prepare_host(host_config, source, discover=discover, extra_plugins=(plugins or {}).items())
    host.raise_for_problems()
    if strict:
        host.check_strict()
    async with host.running(strict=strict):
        yield InProcessHost(host)


@asynccontextmanager
async def start_host_and_connect(
    config: Config = "",
    *,
    server: str = DEFAULT_SERVER,
    plugins: Mapping[str, object] | None = None,
    discover: bool = True,
    strict: bool = True,
) -> AsyncIterator[Client]:
    """``start_host`` and one client connected to ``server``: the shortest way to call a tool."""
    async with (
        start_host(config, plugins=plugins, discover=discover, strict=strict) as host,
        host.connect(server) as client,
    ):
        yield client


# --- reading tool results ------------------------------------------------------------------

_SDK_ERROR_PREFIX = re.compile(r"^Error executing tool [^:]+: ")


def text_of(result: CallToolResult) -> str:
    """The text of a result made of a single text block, as a model reads it."""
    assert len(result.content) == 1, f"expected one content block, got {result.content}"
    block = result.content[0]
    assert isinstance(block, TextContent), f"expected a text block, got {block}"
    return block.text


def error_of(result: CallToolResult) -> str:
    """The message of a failed call, without the SDK's ``"Error executing tool <name>: "`` prefix.

    Fails the test if the call did not fail.
    """
    assert result.is_error, f"expected the call to fail, but it returned {result.content}"
    return _SDK_ERROR_PREFIX.sub("", text_of(result), count=1)


# --- checking that a plugin is installed and usable ----------------------------------------


class PluginNotUsable(AssertionError):
    """The plugin is not installed, or the host cannot use it; the message says why."""


def assert_plugin_installed(name: str, config: Config = "") -> PluginRecord:
    """Load the installed plugin ``name`` exactly as the host does, alone, and check it.

    Finds it through its entry point in the ``mcp_host`` group (so it must be pip-installed, an
    editable install will do), imports it, registers it with the host's plugin manager (which
    checks every hook and argument name against the hook specs), validates its settings from
    ``config``'s ``[plugins.<name>]`` table and runs its registration hooks. Returns its record
    (distribution, version, tool names...); raises ``PluginNotUsable`` with the host's error,
    or ``ConfigError`` for a mistake in ``config``. Other installed plugins are not imported.
    """
    announced = {entry_point.name for entry_point in entry_points(group=PROJECT_NAME)}
    if name not in announced:
        raise PluginNotUsable(
            f"no plugin named {name!r} is installed in {sys.prefix} "
            f"(installed: {', '.join(sorted(announced)) or 'none'}); "
            f"announce it in pyproject.toml under [project.entry-points.{PROJECT_NAME}] "
            f"and pip-install the package ({own_program('pip')} install -e . for a checkout)"
        )
    host_config, source = _read_config(config)
    alone = {other: PluginEntry(enabled=False) for other in announced if other != name}
    entry = host_config.plugins.get(name)
    if entry is not None:
        alone[name] = entry
    host = prepare_host(host_config.model_copy(update={"plugins": alone}), source)
    record = host.plugins.records[name]
    if record.status is PluginStatus.DISABLED:
        raise PluginNotUsable(f"plugin {name!r} is disabled in the config (enabled = false)")
    if record.status is PluginStatus.FAILED:
        raise PluginNotUsable(f"plugin {name!r} ({record.origin}) failed: {record.error}")
    host.raise_for_problems()
    return record


# --- a live host in a child process --------------------------------------------------------


class HostDidNotStart(RuntimeError):
    """The host exited, or did not report that it serves, in time; the message has its log."""


@dataclass
class LiveHost:
    process: subprocess.Popen[str]
    urls: dict[str, str] = field(default_factory=dict)
    """SSE URL of each server, by its key: ``"default"`` or the name in ``[servers.<name>]``."""
    mcp_urls: dict[str, str] = field(default_factory=dict)
    """Streamable HTTP URL of each server, by its key. Both as the host's ``serving`` events
    give them."""
    log_lines: list[str] = field(default_factory=list)
    """The host's log, in the text format (without the time), or as JSON objects when its
    ``args`` ask for ``--log-format json``."""
    json_log: bool = False

    def sse_url(self, server: str = DEFAULT_SERVER) -> str:
        """The HTTP+SSE endpoint of ``server``: ``…/sse`` or ``…/servers/<name>/sse``."""
        return self.urls[server]

    def mcp_url(self, server: str = DEFAULT_SERVER) -> str:
        """The Streamable HTTP endpoint of ``server``: ``…/mcp`` or ``…/servers/<name>/mcp``."""
        return self.mcp_urls[server]

    @property
    def base_url(self) -> str:
        url = next(iter(self.urls.values()))
        return url[: url.index("/", len("http://"))]

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def log(self) -> str:
        return "\n".join(self.log_lines)

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until a log line matches ``pattern`` (a regex) and return the match."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log_lines):
                match = compiled.search(line)
                if match:
                    return match
            time.sleep(0.02)
        raise AssertionError(f"no log line matched {pattern!r} within {timeout} s; log:\n{self.log}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, as a service manager would; returns the exit code.

        Raises ``subprocess.TimeoutExpired`` (after killing it) if the host outlives ``timeout``.
        """
        return _terminate(self.process, timeout)


@contextmanager
def run_host(
    config: str | Path,
    *,
    python: str | Path = sys.executable,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    servers: int | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[LiveHost]:
    """Run ``python -m mcp_host serve`` on ``config`` (a path, or TOML text) on a free port.

    Waits until the host has logged the URL of every server (``servers`` of them; counted
    from the config's ``[servers.*]`` tables when not given). The host logs in JSON, whose
    ``serving`` events carry the URLs; ``log_lines`` shows it as text unless ``args`` ask for
    ``--log-format json``. ``STACK_VARIABLES`` set in the environment choose the HTTP parser
    and event loop it serves on.
    """
    with tempfile.TemporaryDirectory(prefix="mcp-host-test-") as scratch:
        if isinstance(config, Path):
            config_path = config
        else:
            config_path = Path(scratch) / "config.toml"
            config_path.write_text(config, encoding="utf-8")
        expected = servers if servers is not None else 1 + _count_named_servers(config_path)
        command = [
            *(str(python), "-m", "mcp_host", "serve", "--config", str(config_path), "--port", "0"),
            *_stack_options({**os.environ, **(env or {})}),
            *args,
            *("--log-format", "json"),
        ]
        json_log = _asks_for_json(args)
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        host = LiveHost(process, json_log=json_log)
        reader = threading.Thread(target=_read_lines, args=(process, host), daemon=True)
        reader.start()
        try:
            _wait_until_serving(host, expected, startup_timeout)
            yield host
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                _terminate(process, 15)
            reader.join(5)


def _stack_options(environment: Mapping[str, str]) -> list[str]:
    options = []
    for variable, option in STACK_VARIABLES.items():
        if environment.get(variable):
            options += [option, environment[variable]]
    return options


def _count_named_servers(path: Path) -> int:
    import tomllib

    try:
        return len(tomllib.loads(path.read_text(encoding="utf-8")).get("servers", {}))
    except (OSError, tomllib.TOMLDecodeError):
        return 0


def _asks_for_json(args: Sequence[str]) -> bool:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--log-format")
    return bool(parser.parse_known_args(list(args))[0].log_format == "json")


def _read_lines(process: subprocess.Popen[str], host: LiveHost) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip("\n")
        record = _json_record(line)
        if record is None or host.json_log:
            host.log_lines.append(line)
        else:
            host.log_lines.extend(_as_text(record).splitlines())
        if record is not None and record.get("event") == "serving":
            # mcp_urls first: run_host waits on urls, and then both are there.
            host.mcp_urls[str(record["server"])] = str(record["mcp_url"])
            host.urls[str(record["server"])] = str(record["sse_url"])


def _json_record(line: str) -> dict[str, Any] | None:
    """A log line the host wrote as JSON; ``None`` for anything else (a crash, a print)."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _as_text(record: dict[str, Any]) -> str:
    """A JSON log record as the text format shows it, without the time."""
    text = (
        f"{str(record.get('level', '')).upper():<7} {record.get('logger', '')}: {record.get('message', '')}"
    )
    exception = record.get("exception")
    return f"{text}\n{exception}" if exception else text


def _terminate(process: subprocess.Popen[str], timeout: float) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def _wait_until_serving(host: LiveHost, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(host.urls) >= expected:
            return
        if host.process.poll() is not None:
            time.sleep(0.1)  # let the reader drain the last lines
            raise HostDidNotStart(f"mcp-host exited with {host.process.returncode}; log:\n{host.log}")
        time.sleep(0.02)
    raise HostDidNotStart(f"mcp-host did not report {expected} server URLs in {timeout} s; log:\n{host.log}")


# --- the pytest fixtures (see the module docstring) ----------------------------------------
