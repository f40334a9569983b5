"""``mcp-host install PACKAGE...``: pip-install plugins into the host's environment, then show
that each one loads and what it adds (or why it does not, with a non-zero exit)."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from typing import Any

from mcp_host.commands.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_config_argument, load
from mcp_host.installer import (
    CheckFailed,
    InstallCheck,
    NoPip,
    check_in_fresh_process,
    fingerprints,
    pip_install_command,
    requested_names,
)

NAME = "install"
HELP = "pip-install plugins into the host's environment and check that they load"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Install plugins with pip into the environment mcp-host runs in, then load them as the "
        "host will and show each one's status and tools. Restart the host to serve them."
    )
    parser.add_argument(
        "packages",
        nargs="*",
        metavar="PACKAGE",
        help="what pip should install: a name with an optional version (mcp-host-weather>=1.2), "
        "a path to a project or a wheel, or a URL",
    )
    parser.add_argument(
        "-e",
        "--editable",
        action="append",
        default=[],
        metavar="PATH",
        help="install the project at PATH in editable mode (pip install -e), for plugin authors",
    )
    parser.add_argument("-U", "--upgrade", action="store_true", help="upgrade the packages if installed")
    parser.add_argument(
        "--pip-args",
        default="",
        metavar="ARGS",
        help="more options for pip install, in one quoted string: "
        "--pip-args='--index-url https://pypi.example.com/simple --pre'",
    )
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        return _install(args)
    except KeyboardInterrupt:
        # pip got the signal too, and left the environment as pip leaves it when interrupted.
        print("mcp-host install: interrupted", file=sys.stderr)
        return EXIT_FAILURE


def _install(args: argparse.Namespace) -> int:
    if not args.packages and not args.editable:
        print("mcp-host install: name at least one PACKAGE or -e PATH", file=sys.stderr)
        return EXIT_USAGE
    try:
        pip_args = shlex.split(args.pip_args)
    except ValueError as exc:
        print(f"mcp-host install: --pip-args: {exc}", file=sys.stderr)
        return EXIT_USAGE
    load(args.config)  # a mistake in the config is reported before anything is installed
    try:
        command = pip_install_command(
            args.packages, editable=args.editable, upgrade=args.upgrade, pip_args=pip_args
        )
    except NoPip as exc:
        print(f"mcp-host install: {exc}", file=sys.stderr)
        return EXIT_FAILURE

    before = fingerprints()
    _progress(f"installing {', '.join([*args.packages, *args.editable])} with pip")
    returncode = _run_pip(command)
    if returncode != 0:
        print(f"mcp-host install: pip failed (exit code {returncode}); nothing was checked", file=sys.stderr)
        return EXIT_FAILURE

    _progress("checking that the installed plugins load")
    try:
        check = check_in_fresh_process(before, requested_names(args.packages), args.config)
    except CheckFailed as exc:
        print(f"mcp-host install: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return _report(check)


def _run_pip(command: list[str]) -> int:
    """Run pip with its output shown as it comes (downloads and builds take a while), on
    stderr: stdout is the report on the plugins."""
    sys.stderr.flush()
    try:
        stderr = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced by something with no file
        pip = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        sys.stderr.write(pip.stdout + pip.stderr)
        return pip.returncode
    return subprocess.run(command, stdout=stderr, stderr=stderr, stdin=subprocess.DEVNULL).returncode


def _progress(step: str) -> None:
    print(f"{step} ...", file=sys.stderr, flush=True)


def _report(check: InstallCheck) -> int:
    """One block per plugin, as ``mcp-host plugins`` shows it; the failures again at the end."""
    failures: list[str] = []
    for dist in check.with_plugins:
        for plugin in dist.plugins:
            print(_describe(plugin))
            for kind in ("tools", "resources", "prompts"):
                if plugin[kind]:
                    print(f"    {kind}: {', '.join(plugin[kind])}")
            for problem in plugin["problems"]:
                print(f"    problem: {problem}")
            if plugin["status"] == "failed":
                failures.append(f"plugin {plugin['name']!r} ({dist.name}) failed to load: {plugin['error']}")
            failures.extend(plugin["problems"])
    not_plugins = check.requested_without_plugins or ([] if check.with_plugins else check.distributions)
    for dist in not_plugins:
        print(f"{dist.name} {dist.version}  is installed but announces no plugin")
        failures.append(
            f"{dist.name} is not an mcp-host plugin: it has no entry point in the 'mcp_host' group"
        )
    if not check.distributions:
        failures.append("pip changed nothing: were the packages installed already? (see pip's output above)")
    if failures:
        for failure in failures:
            print(f"mcp-host install: {failure}", file=sys.stderr)
        print(
            "mcp-host install: what pip installed stays installed; the host skips a plugin that fails "
            "to load (pip uninstall removes it)",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    print("restart mcp-host to serve them")
    return EXIT_OK


def _describe(plugin: dict[str, Any]) -> str:
    status = plugin["status"]
    if status == "failed":
        status += f": {plugin['error']}"
    elif status == "disabled":
        status += " (enabled = false in the config)"
    return f"{plugin['name']}  ({plugin['distribution']} {plugin['version']})  {status}"
