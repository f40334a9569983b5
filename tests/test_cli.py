"""The command line's own habits: version, help, and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_host.programs import own_program
from mcp_host.version import host_version


def mcp_host(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_host", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    shown = mcp_host(flag)

    assert (shown.returncode, shown.stdout) == (0, f"mcp-host {host_version()}\n")


@pytest.mark.parametrize("args", [["--help"], ["help"]])
def test_the_overview_shows_how_to_serve(args: list[str]) -> None:
    shown = mcp_host(*args)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: mcp-host [--config PATH] [--host H] [--port P]")
    assert "mcp-host --config config.toml --port 8000" in shown.stdout
    assert "http://127.0.0.1:8000/mcp" in shown.stdout
    assert 'eval "$(register-python-argcomplete mcp-host)"' in shown.stdout


def test_help_on_a_command_is_its_options() -> None:
    shown = mcp_host("help", "cursor")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: mcp-host cursor [-h] [--config PATH] [--host HOST] [--port PORT]")
    assert "--global" in shown.stdout
    assert shown.stdout == mcp_host("cursor", "--help").stdout


def test_help_on_an_unknown_command_names_the_commands() -> None:
    shown = mcp_host("help", "serv")

    assert shown.returncode == 2
    assert "invalid choice: 'serv' (choose from 'serve', 'check'" in shown.stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("mcp-host cur", {"cursor"}),
        ("mcp-host cursor --g", {"--global"}),
        ("mcp-host serve --log-format ", {"text", "json"}),
        ("mcp-host help new", {"new-plugin"}),
    ],
)
def test_completion_through_argcomplete(tmp_path: Path, line: str, expected: set[str]) -> None:
    """What the shell's completion function asks, as argcomplete's registration makes it ask."""
    answer = tmp_path / "completions"
    asked = mcp_host(
        env={
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
        }
    )

    assert asked.returncode == 0, asked.stderr
    assert {word.strip() for word in answer.read_text().split("\v")} == expected


def test_hints_name_the_environments_own_programs_from_where_you_are(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = Path(sys.executable).parent
    monkeypatch.chdir(bin_dir.parent.parent)  # the folder holding the virtualenv, as in the README

    assert own_program("mcp-host") == f"{bin_dir.parent.name}/bin/mcp-host"
    assert own_program("no-such-program") == f"{bin_dir.parent.name}/bin/{Path(sys.executable).name}"
    monkeypatch.chdir(tmp_path)  # elsewhere: the full path
    assert own_program("mcp-host") == str(bin_dir / "mcp-host")
