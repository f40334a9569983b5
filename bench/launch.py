"""Starting the servers under test: each in a process of its own, on a free loopback port.

mcp-host runs as ``python -m mcp_host serve``, from a scratch virtualenv that has the
benchmark's plugin pip-installed, so it serves the tool through its normal plugin pipeline.
The Python baselines run from the same virtualenv (``python -m bench.servers NAME``) and
import the plugin's function, so every server runs the same tool. The TypeScript SDK's
server runs on the Node and the packages pinned in ``tests/clients`` (installed by
``bash .ci/install-node-clients``), and only when they are installed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.servers import BASELINES

HOST = "127.0.0.1"
MCP_HOST = "mcp-host"
TS_SDK = "ts-sdk"
SERVERS = (MCP_HOST, "sdk-per-connection", "sdk-shared", TS_SDK, "echo")
"""Every server under test, mcp-host first; the others are its baselines."""
STACKS = {
    "sdk-per-connection": "asyncio, h11",
    "sdk-shared": "asyncio, h11",
    TS_SDK: "Node, Express",
    "echo": "asyncio, h11",
}
"""The HTTP stack of each baseline (mcp-host's is read from the host itself: ``host_stack``)."""
REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "tests" / "clients" / "node_modules"
NODE = NODE_MODULES / ".bin" / "node"
TS_SERVER = Path(__file__).resolve().parent / "servers" / "ts_sdk.mjs"
NODE_INSTALL = "bash .ci/install-node-clients"
PLUGIN = Path(__file__).resolve().parent / "plugin"
PLUGIN_NAME = "bench"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
PIP_INSTALL = (sys.executable, "-m", "pip", "--quiet")


class ServerDidNotStart(RuntimeError):
    pass


@dataclass(frozen=True)
class PluginEnv:
    """A virtualenv that sees this environment's packages and has the benchmark's plugin installed."""

    python: Path
    config: Path
    """The mcp-host config: the bench plugin alone, logging warnings only."""

    @classmethod
    def create(cls, root: Path) -> PluginEnv:
        venv.EnvBuilder(with_pip=False).create(root / "venv")
        python = root / "venv" / "bin" / "python"
        site = subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
        # addsitedir, so that this environment's .pth files (editable installs) apply there too.
        outer = sysconfig.get_paths()["purelib"]
        (Path(site) / "_outer_environment.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
        subprocess.run(
            [
                *PIP_INSTALL,
                "--python",
                str(python),
                "install",
                "--no-deps",
                "--no-build-isolation",
                str(PLUGIN),
            ],
            check=True,
        )
        config = root / "mcp-host.toml"
        config.write_text(_host_config(_installed_plugins(python)), encoding="utf-8")
        return cls(python, config)


def _installed_plugins(python: Path) -> list[str]:
    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps([e.name for e in m.entry_points(group='mcp_host')]))"
    )
    names: list[str] = json.loads(subprocess.check_output([python, "-c", code], text=True))
    if PLUGIN_NAME not in names:
        raise RuntimeError(f"the {PLUGIN_NAME!r} plugin did not install (plugins found: {names})")
    return names


def _host_config(plugins: list[str]) -> str:
    """Only the bench plugin: every other installed plugin is disabled, so it is not even imported."""
    lines = ["[server]", f'host = "{HOST}"', 'log_level = "warning"', ""]
    # Every session of the load generator comes from one address: one client, as the host
    # counts them, which would otherwise be held to its per-client quota.
    lines += ["[limits]", "max_sessions_per_client = 100000", ""]
    for name in sorted(set(plugins) - {PLUGIN_NAME}):
        lines += [f"[plugins.{name}]", "enabled = false", ""]
    return "\n".join(lines)


def node_problem() -> str | None:
    """Why the TypeScript SDK's server cannot run here, or None."""
    if not NODE.exists() or not (NODE_MODULES / "@modelcontextprotocol" / "sdk").is_dir():
        return f"the pinned Node and TypeScript SDK are not installed ({NODE_INSTALL})"
    return None


MODERN_SERVERS = (MCP_HOST, "sdk-shared")
"""The servers that speak the sessionless revision 2026-07-28: mcp-host, and the SDK's own
``streamable_http_app()``; its per-connection servers, the TypeScript SDK 1.32 and the echo
baseline speak only the handshake era."""


def speaks(server: str, transport: str) -> bool:
    return transport != "modern" or server in MODERN_SERVERS


def available_servers() -> list[str]:
    """Every server this machine can run: the TypeScript SDK's only with Node installed."""
    return [server for server in SERVERS if server != TS_SDK or node_problem() is None]


def host_stack(env: PluginEnv) -> str:
    """The event loop and HTTP parser ``mcp-host serve`` picks in ``env``."""
    code = "from mcp_host.stack import choose_stack; s = choose_stack(); print(f'{s.loop}, {s.http}')"
    return subprocess.check_output([env.python, "-c", code], text=True).strip()


def command(server: str, env: PluginEnv, port: int, probe: bool = False) -> list[str]:
    """``probe``: mcp-host under ``bench.session_memory``, which can trace its allocations."""
    if server == MCP_HOST:
        runner = ["bench.session_memory", "--serve"] if probe else ["mcp_host"]
        return [str(env.python), "-m", *runner, "serve", "--config", str(env.config), "--port", str(port)]
    if server in BASELINES:
        return [str(env.python), "-m", "bench.servers", server, "--port", str(port)]
    if server == TS_SDK:
        return [str(NODE), str(TS_SERVER), str(port), str(NODE_MODULES)]
    from bench import layers  # its copies of mcp-host, each with a layer off (it imports this module)

    if (found := layers.command(server, env, port)) is not None:
        return found
    raise ValueError(f"unknown server {server!r}; known: {', '.join(SERVERS)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(
    server: str, env: PluginEnv, log: Path, cpus: set[int] | None = None, probe: bool = False
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The server in its own process, on ``cpus`` if given, until the block ends (SIGTERM;
    SIGKILL if it hangs)."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command(server, env, port, probe),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
        try:
            if cpus is not None:
                os.sched_setaffinity(process.pid, cpus)
            _wait_until_answering(process, port, log)
            yield process, port
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_answering(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerDidNotStart(f"{process.args!r} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                probe.sendall(
                    f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
                )
                if probe.recv(12).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise ServerDidNotStart(f"{process.args!r} did not answer within {READY_TIMEOUT_S} s:\n{log.read_text()}")


def log_problems(log: Path) -> int:
    """Lines of the server's log at ERROR, or with a traceback: each is a failure to look into."""
    text = log.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if "ERROR" in line or line.startswith("Traceback"))
