"""A test skipped for want of a program (the npm clients, redis-server, Chromium) is never a
silent one: the run's header names what is missing and its summary counts the skips, each
with the one command that installs them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_header_and_the_summary_name_the_missing_tools_and_the_command() -> None:
    # No program on PATH: redis-server and Chromium are missing, as on a fresh machine.
    env = {key: value for key, value in os.environ.items() if key != "CI"} | {"PATH": ""}
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider"),
            *("tests/test_cluster.py", "tests/test_tool_arguments.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert "test tools missing, their tests will be skipped; bash .ci/install-test-tools installs them:" in (
        run.stdout
    )
    assert "  redis-server (redis-server not on PATH): tests/test_cluster.py" in run.stdout
    assert (
        "  Chromium (chromium and chromedriver not on PATH): tests/test_status_page_browser.py" in run.stdout
    )
    assert "1 tests skipped for want of a test tool; bash .ci/install-test-tools installs them" in run.stdout
