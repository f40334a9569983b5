"""What the commands share: exit codes and the config argument."""

from __future__ import annotations

import argparse
from pathlib import Path

from mcp_host.config import HostConfig, load_config

EXIT_OK = 0
EXIT_FAILURE = 1
"""The host could not do its job: a plugin failed under --strict, the address is taken."""
EXIT_USAGE = 2
"""A mistake in the command line or the config."""


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help="config file (TOML); every default when omitted"
    )


def load(path: Path | None, overrides: dict[str, object] | None = None) -> tuple[HostConfig, str]:
    config = load_config(path)
    if overrides:
        server = config.server.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        config = config.model_copy(update={"server": server})
    return config, str(path) if path else "<defaults>"
