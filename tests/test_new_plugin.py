"""`mcp-host new-plugin`: from nothing to a plugin a client can call, as a new author goes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcp_host.cli import main
from mcp_host.testing import run_host, text_of
from tests.conftest import ScratchEnv


def new_plugin(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_host", "new-plugin", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def hello(make_scratch_env: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[ScratchEnv, Path]:
    """``mcp-host new-plugin hello``, pip-installed into a scratch virtualenv, as an author would."""
    workspace = tmp_path_factory.mktemp("author")
    created = new_plugin("hello", cwd=workspace)
    assert created.returncode == 0, created.stderr
    assert f"created mcp-host-hello in {Path('mcp-host-hello')}" in created.stdout
    package = workspace / "mcp-host-hello"
    env = make_scratch_env()
    env.pip_install(package)
    return env, package


@pytest.mark.slow
def test_the_new_plugin_passes_its_own_tests_once_installed(hello: tuple[ScratchEnv, Path]) -> None:
    env, package = hello
    own_tests = subprocess.run(
        [env.python, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr
    assert "5 passed" in own_tests.stdout


@pytest.mark.slow
def test_the_new_plugin_is_discovered(hello: tuple[ScratchEnv, Path]) -> None:
    env, _ = hello
    listing = env.mcp_host("plugins")

    assert "hello  (mcp-host-hello 0.1.0)  loaded\n    tools: hello_greet" in listing.stdout


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_new_plugin_is_served_to_an_sdk_client(hello: tuple[ScratchEnv, Path]) -> None:
    env, _ = hello
    with run_host('[plugins.hello]\ngreeting = "Welcome"\n', python=env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            result = await client.call_tool("hello_greet", {"who": "Grace"})

    assert text_of(result) == "Welcome, Grace!"


def test_the_generated_code_passes_the_linters(tmp_path: Path) -> None:
    assert main(["new-plugin", "world_clock", "--dir", str(tmp_path / "plugin")]) == 0
    package = tmp_path / "plugin"

    assert sorted(str(path.relative_to(package)) for path in package.rglob("*") if path.is_file()) == [
        ".gitignore",
        "README.md",
        "mcp_host_world_clock/__init__.py",
        "mcp_host_world_clock/py.typed",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_world_clock.py",
    ]
    pyproject = (package / "pyproject.toml").read_text()
    assert 'name = "mcp-host-world-clock"' in pyproject
    assert 'world_clock = "mcp_host_world_clock"' in pyproject
    for check in (["check"], ["format", "--check"]):
        # --isolated: the author's project has its own settings, not this repository's.
        linted = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--isolated", str(package)], capture_output=True, text=True
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Time", "plugin name 'Time': use lower-case letters and digits, words joined by single '_'"),
        ("world-clock", "plugin name 'world-clock': use lower-case letters and digits"),
        ("2fa", "plugin name '2fa': use lower-case letters and digits"),
        ("a__b", "plugin name 'a__b': use lower-case letters and digits"),
        ("mcp_host_time", "give the plugin's own name, without the 'mcp-host-' prefix"),
        ("import", "plugin name 'import': a Python keyword cannot name a plugin's functions"),
        ("x" * 41, "at most 40 characters"),
    ],
)
def test_a_bad_name_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    assert main(["new-plugin", name, "--dir", str(tmp_path / "plugin")]) == 2

    assert message in capsys.readouterr().err
    assert not (tmp_path / "plugin").exists()


def test_an_existing_directory_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "pyproject.toml").write_text("# mine\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("mine\n")

    assert main(["new-plugin", "hello", "--dir", str(taken)]) == 2
    assert main(["new-plugin", "hello", "--dir", str(a_file)]) == 2

    errors = capsys.readouterr().err
    assert f"{taken} already exists and is not an empty directory; choose another --dir" in errors
    assert f"{a_file} already exists" in errors
    assert [path.name for path in taken.iterdir()] == ["pyproject.toml"]
    assert (taken / "pyproject.toml").read_text() == "# mine\n"
    assert a_file.read_text() == "mine\n"


def test_an_empty_directory_is_filled(tmp_path: Path) -> None:
    assert main(["new-plugin", "hello", "--dir", str(tmp_path)]) == 0

    assert (tmp_path / "mcp_host_hello" / "__init__.py").is_file()


def test_the_name_of_an_installed_plugin_is_refused_with_the_fix(
    plugin_env: ScratchEnv, tmp_path: Path
) -> None:
    refused = plugin_env.mcp_host("new-plugin", "counter", "--dir", str(tmp_path / "plugin"))

    assert refused.returncode == 2
    assert refused.stderr == (
        "mcp-host new-plugin: plugin name 'counter' is taken: mcp-host-counter installs a plugin of that "
        "name; choose another name (for example 'my_counter'), or 'pip uninstall mcp-host-counter' first\n"
    )
    assert not (tmp_path / "plugin").exists()


def test_the_next_steps_name_the_environments_own_programs(tmp_path: Path) -> None:
    created = new_plugin("greeter", cwd=tmp_path)
    bin_dir = Path(sys.executable).parent

    assert created.returncode == 0, created.stderr
    assert f"  {bin_dir / 'pip'} install -e 'mcp-host-greeter[test]'\n" in created.stdout
    assert f"  {bin_dir / 'mcp-host'}    # serves it at http://127.0.0.1:8000/mcp\n" in created.stdout
    readme = (tmp_path / "mcp-host-greeter" / "README.md").read_text()
    assert "http://127.0.0.1:8000/mcp" in readme
    assert "/sse" not in readme
