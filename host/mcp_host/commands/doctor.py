"""``mcp-host doctor URL``: connect to an MCP server as Cursor does and say what is wrong."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

import anyio

from mcp_host.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from mcp_host.doctor.diagnosis import Check, ErasCheck, Status, diagnose
from mcp_host.doctor.probe import BadURL, ProbeOptions

NAME = "doctor"
HELP = "connect to a server as Cursor does and explain what is wrong, with the fix"
TOKEN_VARIABLE = "MCP_HOST_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Connect to an MCP server the way Cursor does: Streamable HTTP, then HTTP+SSE, initialize, "
        "tools/list, and a keep-alive on the SSE stream; then as a client of the sessionless revision "
        "2026-07-28 does (server/discover, tools/list), and say which protocol eras the server speaks. "
        "One line per check; exit code 1 if one fails."
    )
    parser.add_argument("url", help="the server's URL, as in mcp.json: http://127.0.0.1:8000/mcp (or /sse)")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_VARIABLE),
        help=f"bearer token for a host with [[auth.tokens]] (default: ${TOKEN_VARIABLE})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=10.0,
        metavar="S",
        help="time limit of each network step (default: 10)",
    )
    parser.add_argument(
        "--keepalive-wait",
        type=_not_negative,
        default=15.0,
        metavar="S",
        help="how long to wait for a keep-alive on the SSE stream: the host's keepalive_s "
        "(default: 15; 0 skips the check)",
    )
    parser.add_argument(
        "--name", metavar="NAME", help="the server's name in Cursor's mcp.json (default: the name it reports)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    # The SDK's clients log connection errors with tracebacks; every failure becomes a check here.
    logging.disable(logging.CRITICAL)
    options = ProbeOptions(
        token=args.token or None,
        timeout_s=args.timeout,
        keepalive_wait_s=args.keepalive_wait,
        server_name=args.name,
    )
    checks: list[Check] = []

    async def collect() -> None:
        async for check in diagnose(args.url, options):
            checks.append(check)
            if not args.json:
                print(_line(check), flush=True)
            if (
                check.name == "sse"
                and check.status is Status.OK
                and options.keepalive_wait_s
                and not args.json
            ):
                print(f"(the keep-alive check waits up to {options.keepalive_wait_s:g} s)", file=sys.stderr)

    try:
        anyio.run(collect)
    except KeyboardInterrupt:
        print("mcp-host doctor: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except BadURL as exc:
        print(f"mcp-host doctor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug of ours; still one line, as promised
        print(f"mcp-host doctor: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    failed = [check for check in checks if check.status is Status.FAIL]
    if args.json:
        eras = next((check.eras for check in checks if isinstance(check, ErasCheck)), ())
        document = {
            "url": args.url,
            "ok": not failed,
            "eras": list(eras),
            "checks": [check.as_dict() for check in checks],
        }
        print(json.dumps(document, indent=2))
    elif failed:
        print(f"{len(failed)} of {len(checks)} checks failed")
    else:
        warned = sum(check.status is Status.WARN for check in checks)
        print(f"Cursor can connect{f' ({warned} warnings)' if warned else ''}")
    return EXIT_FAILURE if failed else EXIT_OK


def _line(check: Check) -> str:
    fix = f" Fix: {check.fix}." if check.fix else ""
    return f"{check.status:<5} {check.name:<26} {check.detail}.{fix}"


def _positive(text: str) -> float:
    value = _not_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _not_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value
