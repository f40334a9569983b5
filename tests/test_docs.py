"""The README's and CONTRIBUTING's commands, run as written, so the docs cannot drift.

Every ``sh`` block of the README is either run here or listed in ``NOT_RUN_HERE`` with the
reason (it needs the internet, a fixed port, or is itself the test run). The slow tests run
the blocks in a copy of this checkout with a fresh virtualenv, exactly as a newcomer would
from a clean clone: the host, the Cursor entry, a new plugin in the host's virtualenv and in
one of its own. One change is made to the commands that serve: ``--port 0`` is appended, as
other hosts may hold port 8000 on this machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mcp.client import Client

from mcp_host.testing import text_of

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"

NOT_RUN_HERE = {
    "npx @modelcontextprotocol/inspector": (
        "needs the npm registry; tests/clients runs the pinned Inspector"
    ),
    ".venv/bin/pip install -e '.[cluster]'": (
        "Redis on its fixed port 6379; tests/test_cluster.py runs clusters"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev,bench]' && .venv/bin/python -m bench": (
        "the benchmark takes many minutes; tests/test_bench_smoke.py runs it briefly"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' -e plugins/weather": (
        "the test command: this run is it (test_ci_runs_the_readmes_test_command)"
    ),
    "docker run --rm -d --name jaeger": (
        "needs Docker and its registry; tests/test_telemetry.py exports to an OTLP receiver on loopback"
    ),
    ".venv/bin/mcp-host --config config.toml --pid-file mcp-host.pid": (
        "serves in the foreground while the next commands run beside it; tests/test_reload.py runs "
        "the same steps (--pid-file, a pip install while serving, mcp-host reload --pid-file)"
    ),
}
QUICK_START = "python3 -m venv .venv && .venv/bin/pip install -e . -e plugins/weather -e plugins/time\n"
CURSOR = ".venv/bin/mcp-host cursor --config config.toml --write\n"
COMPLETION_BASH = 'eval "$(register-python-argcomplete mcp-host)"\n'
COMPLETION_FISH = "register-python-argcomplete --shell fish mcp-host | source\n"
RUN_HERE = (QUICK_START, CURSOR, COMPLETION_BASH, COMPLETION_FISH)


def blocks(path: Path, language: str) -> list[str]:
    """The fenced code blocks of one language in a Markdown file, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", path.read_text(encoding="utf-8"), re.M | re.S)


def block_starting(path: Path, language: str, start: str) -> str:
    found = [block for block in blocks(path, language) if block.startswith(start)]
    assert len(found) == 1, f"{path.name}: expected one {language} block starting {start!r}, found {found}"
    return found[0]


def test_every_shell_block_of_the_readme_is_run_here_or_says_why_not() -> None:
    unknown = [
        block
        for block in blocks(README, "sh")
        if not block.startswith(RUN_HERE) and not block.startswith(tuple(NOT_RUN_HERE))
    ]

    assert unknown == [], "a new command block in the README: run it in tests/test_docs.py"


def test_ci_runs_the_readmes_test_command() -> None:
    command = next(block for block in blocks(README, "sh") if block.startswith(tuple(NOT_RUN_HERE)[3]))

    assert command.strip() in (ROOT / ".ci" / "run").read_text().splitlines()
    assert command.strip() in CONTRIBUTING.read_text()


def test_the_readmes_cursor_entry_is_what_the_command_prints() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "mcp_host", "cursor", "--config", "config.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    (entry,) = blocks(README, "json")[:1]

    assert json.loads(printed.stdout) == json.loads(entry)
    assert printed.stdout.strip() == entry.strip()


def test_the_completion_blocks_register_completion(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    bash = subprocess.run(
        ["bash", "-c", block_starting(README, "sh", COMPLETION_BASH) + "complete -p mcp-host"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bash.returncode == 0, bash.stderr
    assert bash.stdout.startswith("complete ")
    assert bash.stdout.rstrip().endswith(" mcp-host")
    fish = subprocess.run(
        ["register-python-argcomplete", "--shell", "fish", "mcp-host"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert fish.returncode == 0, fish.stderr
    assert "complete --command mcp-host" in fish.stdout


# --- from a clean clone --------------------------------------------------------------------------


def clean_clone(target: Path) -> Path:
    """This checkout's files, without its virtualenv, caches or build output."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:  # not a git checkout: copy all but what .gitignore names
        ignored = shutil.ignore_patterns(*(ROOT / ".gitignore").read_text().split(), ".git")
        shutil.copytree(ROOT, target, ignore=ignored)
        return target
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def run_block(command: str, cwd: Path, timeout: float = 900) -> str:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{command}\nexited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def serving(command: str, cwd: Path) -> Iterator[str]:
    """Run a command that serves, on a free port; the Streamable HTTP URL it logs."""
    process = subprocess.Popen(
        ["bash", "-c", f"exec {command.strip()} --port 0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:\d+/mcp\b", "".join(lines))
            url = found.group(0) if found else None
            time.sleep(0.05)
        assert url is not None, f"{command} did not log its URL:\n{''.join(lines)}"
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        reader.join(5)


async def call(url: str, tool: str, arguments: dict[str, object]) -> str:
    async with Client(url, mode="legacy") as client:
        return text_of(await client.call_tool(tool, arguments))


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean clone, set up with the Quick start's first command."""
    checkout = clean_clone(tmp_path_factory.mktemp("clone"))
    setup, serve = block_starting(README, "sh", QUICK_START).strip().splitlines()
    run_block(setup, checkout)
    (checkout / "serve-command").write_text(serve)
    return checkout


@pytest.mark.slow
@pytest.mark.anyio
async def test_quick_start_serves_the_shipped_config_and_writes_the_cursor_entry(clone: Path) -> None:
    serve = (clone / "serve-command").read_text()
    with serving(serve, clone) as url:
        answer = await call(
            url, "convert_time", {"time": "2026-11-27 09:00", "from_zone": "UTC", "to_zone": "UTC"}
        )
    run_block(block_starting(README, "sh", CURSOR), clone)

    assert answer.startswith("09:00 on Friday 27 November 2026 in UTC")
    assert json.loads((clone / ".cursor" / "mcp.json").read_text()) == json.loads(blocks(README, "json")[0])


@pytest.mark.slow
@pytest.mark.anyio
async def test_contributings_new_plugin_in_the_hosts_virtualenv_and_in_its_own(clone: Path) -> None:
    *steps, serve = (
        block_starting(CONTRIBUTING, "sh", ".venv/bin/mcp-host new-plugin shout").strip().splitlines()
    )
    for step in steps:
        run_block(step.split("#")[0], clone)
    with serving(serve.split("#")[0], clone) as url:
        in_the_hosts_env = await call(url, "shout_greet", {"who": "Ada"})

    # The plugin's own README: a fresh virtualenv of its own, mcp-host from this clone by path.
    plugin = clone / "mcp-host-shout"
    own_setup, own_serve = (
        block_starting(plugin / "README.md", "sh", "python3 -m venv .venv").strip().splitlines()
    )
    assert f"pip install {clone} -e" in own_setup
    tested = run_block(own_setup, plugin)
    with serving(own_serve.split("#")[0], plugin) as url:
        in_its_own_env = await call(url, "shout_greet", {"who": "Grace"})

    assert in_the_hosts_env == "Hello, Ada!"
    assert "5 passed" in tested
    assert in_its_own_env == "Hello, Grace!"
