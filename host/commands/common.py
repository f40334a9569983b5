"""What the commands share: exit codes, the config argument, logging."""

from __future__ import annotations

import argparse
import logging
import sys
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


def configure_logging(level: str) -> None:
    # Before any MCPServer exists: the SDK calls logging.basicConfig when one is created.
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    # Plugins' HTTP clients would log every request, with its query, at INFO.
    for chatty in ("httpx2", "httpcore2"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
