"""``mcp-host reload``: make a running host reload its config and plugins (SIGHUP to it).

The host is found by its pid file (``serve --pid-file``), or else at the address its config
names: its ``/healthz`` gives the pid to signal (with ``--workers``, the supervisor's).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import httpx2

from mcp_host.commands.common import (
    EXIT_FAILURE,
    EXIT_OK,
    add_address_arguments,
    add_config_argument,
    load,
    local_url,
)

NAME = "reload"
HELP = "make the running host reload its config and plugins, without dropping a client"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pid-file", type=Path, metavar="PATH", help="the pid file the host writes (serve --pid-file)"
    )
    add_config_argument(parser)
    add_address_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        pid, where = _pid_from_file(args.pid_file) if args.pid_file else _pid_from_address(args)
        os.kill(pid, signal.SIGHUP)
    except _NotFound as exc:
        print(f"mcp-host reload: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ProcessLookupError:
        print(f"mcp-host reload: no process {pid} ({where}): is the host running?", file=sys.stderr)
        return EXIT_FAILURE
    except PermissionError:
        print(f"mcp-host reload: not allowed to signal process {pid} ({where})", file=sys.stderr)
        return EXIT_FAILURE
    print(f"mcp-host reload: sent SIGHUP to process {pid} ({where}); its log says what the reload changed")
    return EXIT_OK


class _NotFound(Exception):
    """No running host to signal; the message says where it was looked for."""


def _pid_from_file(path: Path) -> tuple[int, str]:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise _NotFound(f"cannot read the pid file {path}: {exc.strerror}") from None
    if not text.isdigit():
        raise _NotFound(f"{path} holds no pid: {text[:40]!r}")
    return int(text), f"from {path}"


def _pid_from_address(args: argparse.Namespace) -> tuple[int, str]:
    config, _ = load(args.config, {"host": args.host, "port": args.port})
    settings = config.server
    url = local_url(config, "/healthz")
    try:
        answer = httpx2.get(url, timeout=5.0)
        pid = answer.json().get("pid")
    except (httpx2.HTTPError, ValueError, AttributeError) as exc:
        raise _NotFound(f"no mcp-host answers at {url} ({exc}); give --pid-file, or --host/--port") from None
    if not isinstance(pid, int):
        raise _NotFound(f"{url} does not name the host's pid: is it an mcp-host of this version?")
    if settings.host not in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::", ""):
        # A pid means something only on the machine that runs the host.
        raise _NotFound(f"the host at {url} is not on this machine: run `mcp-host reload` there")
    return pid, f"the host at {url}"
