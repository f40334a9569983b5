"""What the commands share: exit codes, the config argument, the host a config describes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mcp_host.addresses import url_host
from mcp_host.blueprints import ServerBlueprint
from mcp_host.config import ConfigError, HostConfig, Problem, load_config

# The exit codes, where every command has always found them.
from mcp_host.exit_codes import EXIT_FAILURE as EXIT_FAILURE
from mcp_host.exit_codes import EXIT_OK as EXIT_OK
from mcp_host.exit_codes import EXIT_USAGE as EXIT_USAGE
from mcp_host.host import Host, prepare_host


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help="config file (TOML); every default when omitted"
    )


def add_address_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port``, as ``serve`` takes them and the commands that name its URL."""
    parser.add_argument("--host", help="address to listen on (overrides [server] host)")
    parser.add_argument(
        "--port", type=port_number, help="port to listen on, 0 for any free one (overrides [server] port)"
    )


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {port}")
    return port


def load(path: Path | None, overrides: dict[str, object] | None = None) -> tuple[HostConfig, str]:
    config = load_config(path)
    if overrides:
        server = config.server.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        config = config.model_copy(update={"server": server})
    return config, str(path) if path else "<defaults>"


def prepare(path: Path | None, overrides: dict[str, object] | None = None) -> Host:
    """The host a config describes, plugins loaded and configured but not started.

    Raises ``ConfigError`` for the config's mistakes, which the CLI reports with exit 2.
    """
    # The commands report plugin failures themselves; the log would say it twice.
    logging.getLogger("mcp_host").setLevel(logging.CRITICAL)
    config, source = load(path, overrides)
    host = prepare_host(config, source)
    host.raise_for_problems()
    return host


def local_url(config: HostConfig, path: str) -> str:
    """The URL of ``path`` on the host serving ``config``, as a client on this machine reaches it."""
    settings = config.server
    address = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{url_host(address)}:{settings.port}{settings.root_path}{path}"


def connect_url(host: Host, blueprint: ServerBlueprint, transport_path: str) -> str:
    """The URL a client on this machine uses to reach one server."""
    settings = host.config.server
    address = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{url_host(address)}:{settings.port}{settings.root_path}{transport_path}"


def select_servers(host: Host, name: str | None) -> list[ServerBlueprint]:
    """Every server, or the one named (``default`` is [server]); an unknown name is a usage error."""
    if name is None:
        return list(host.blueprints.values())
    if name not in host.blueprints:
        known = ", ".join(host.blueprints)
        raise ConfigError(host.source, [Problem("servers", f"no server named {name!r} (servers: {known})")])
    return [host.blueprints[name]]
