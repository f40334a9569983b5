"""Fixtures shared by the host's tests: scratch virtualenvs with real plugin installs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

PLUGIN_DISTS = Path(__file__).parent / "plugin_dists"


def pytest_report_header() -> list[str]:
    from tests.external_tools import INSTALL_COMMAND, missing_tools

    missing = missing_tools()
    if not missing:
        return ["test tools: the npm MCP clients, redis-server and Chromium are installed"]
    lines = [f"test tools missing, their tests will be skipped; {INSTALL_COMMAND} installs them:"]
    lines.extend(f"  {tool.name} ({problem}): {tool.tests}" for tool, problem in missing)
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.external_tools import INSTALL_COMMAND

    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if INSTALL_COMMAND in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped for want of a test tool; {INSTALL_COMMAND} installs them",
            yellow=True,
            bold=True,
        )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class ScratchEnv:
    """A virtualenv that sees the test environment's packages and adds its own installs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        venv.EnvBuilder(with_pip=False).create(root)
        self.python = root / "bin" / "python"
        site = Path(
            subprocess.check_output(
                [self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
            ).strip()
        )
        # The host and its dependencies come from the environment running the tests, so a
        # scratch env costs one small install, not a download of the world.
        # addsitedir, not a bare path, so the outer .pth files (editable installs) apply too.
        outer = sysconfig.get_paths()["purelib"]
        (site / "_outer_environment.pth").write_text(f"import site; site.addsitedir({outer!r})\n")

    def pip_install(self, *dists: Path) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.python),
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                *map(str, dists),
            ],
            check=True,
        )

    def mcp_host(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, "-m", "mcp_host", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture(scope="session")
def make_scratch_env(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., ScratchEnv]:
    def make(*dist_names: str) -> ScratchEnv:
        env = ScratchEnv(tmp_path_factory.mktemp("venv"))
        if dist_names:
            env.pip_install(*(PLUGIN_DISTS / name for name in dist_names))
        return env

    return make


@pytest.fixture(scope="session")
def plugin_env(make_scratch_env: Callable[..., ScratchEnv]) -> ScratchEnv:
    """Test plugins installed with pip: counter (per-session state), echo, and broken."""
    return make_scratch_env("counter", "echo", "broken")


@pytest.fixture(scope="session")
def rogue_env(make_scratch_env: Callable[..., ScratchEnv]) -> ScratchEnv:
    """The counter plugin, and rogue: a plugin that does what a plugin must not."""
    return make_scratch_env("counter", "rogue")
