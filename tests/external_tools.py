"""The programs some tests drive beyond Python, and whether they are installed.

Without them those tests are skipped (in CI, with ``CI=true``, they fail), and the test run
says so in its header and its summary, with the one command that installs them all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

from tests.clients.node import install_problem

INSTALL_COMMAND = "bash .ci/install-test-tools"


def _program(*names: str) -> Callable[[], str | None]:
    def problem() -> str | None:
        missing = [name for name in names if shutil.which(name) is None]
        return f"{' and '.join(missing)} not on PATH" if missing else None

    return problem


@dataclass(frozen=True)
class ExternalTool:
    name: str
    tests: str
    problem: Callable[[], str | None]


TOOLS = (
    ExternalTool("the npm MCP clients", "tests/clients, tests/conformance", install_problem),
    ExternalTool("redis-server", "tests/test_cluster.py", _program("redis-server")),
    ExternalTool("Chromium", "tests/test_status_page_browser.py", _program("chromium", "chromedriver")),
)


def missing_tools() -> list[tuple[ExternalTool, str]]:
    return [(tool, problem) for tool in TOOLS if (problem := tool.problem()) is not None]


def skip_reason(tool_name: str) -> str:
    """The reason a test gives when it skips for a missing tool: the summary counts these."""
    return f"{tool_name} not installed; {INSTALL_COMMAND} installs it"
