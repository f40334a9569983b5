"""The real MCP clients from npm that tests drive, installed by ``.ci/install-node-clients``.

``package.json`` beside this file pins them (and Node 22, which the MCP Inspector needs, from
the npm package ``node``); ``package-lock.json`` pins everything they pull in. The install
script writes a stamp of both files into ``node_modules`` when it succeeds, so an install that
is missing, broken off or made from other pins is never mistaken for the right one.

In CI (``CI=true``) a test that needs the clients fails when they are not installed; elsewhere
it is skipped, with the command that installs them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CLIENTS_DIR = Path(__file__).parent
NODE_MODULES = CLIENTS_DIR / "node_modules"
BIN = NODE_MODULES / ".bin"
STAMP = NODE_MODULES / ".mcp-host-installed"
"""Written by .ci/install-node-clients: the sha256 of package.json followed by package-lock.json."""

INSTALL_COMMAND = "bash .ci/install-test-tools"
"""Installs these clients, and the other programs tests drive."""


def expected_stamp() -> str:
    pins = (CLIENTS_DIR / "package.json").read_bytes() + (CLIENTS_DIR / "package-lock.json").read_bytes()
    return hashlib.sha256(pins).hexdigest()


def install_problem() -> str | None:
    """Why the pinned clients cannot be used, or None when they are installed as pinned."""
    if not STAMP.is_file():
        return "not installed"
    if STAMP.read_text().strip() != expected_stamp():
        return "installed from other pins than tests/clients/package-lock.json"
    if not (BIN / "node").exists():
        return "missing Node (node_modules/.bin/node)"
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1"}


@dataclass(frozen=True)
class NodeClients:
    """Runs the installed clients, on the pinned Node, with a scratch home directory."""

    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            # Scripts run `#!/usr/bin/env node`: the pinned Node 22, not the machine's.
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            # The Inspector keeps a catalog and client config under ~; keep them out of the real one.
            "HOME": str(self.home),
            "NO_COLOR": "1",
        }

    def run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run an installed program (``node_modules/.bin/<program>``) and return what it did."""
        return subprocess.run(
            [str(BIN / program), *args],
            cwd=CLIENTS_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def run_json(self, program: str, *args: str, timeout: float = 120) -> dict[str, object]:
        """Run a program that prints one JSON object; fail with its output if it does not."""
        done = self.run(program, *args, timeout=timeout)
        assert done.returncode == 0, _report(done)
        try:
            result: dict[str, object] = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"not JSON on stdout:\n{_report(done)}") from None
        return result


def require_node_clients(home: Path) -> NodeClients:
    """The installed clients; skip the test (fail it in CI) when they are not installed."""
    problem = install_problem()
    if problem is not None:
        message = f"the npm MCP clients in tests/clients are {problem}; run `{INSTALL_COMMAND}`"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return NodeClients(home)


def _report(done: subprocess.CompletedProcess[str]) -> str:
    return f"{done.args} exited with {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
