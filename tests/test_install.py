"""``mcp-host install``: pip-installs plugins into the host's environment and shows what loads.

Each test runs the command as a user would, in a scratch virtualenv, on local projects only:
pip gets ``--no-index`` and no build isolation, so nothing is fetched from the internet.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import PLUGIN_DISTS, ScratchEnv

pytestmark = pytest.mark.slow

OFFLINE = "--pip-args=--no-deps --no-build-isolation --no-index"


def _installed_plugins(env: ScratchEnv) -> dict[str, dict]:
    listing = env.mcp_host("plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    return {plugin["name"]: plugin for plugin in json.loads(listing.stdout)["plugins"]}


def test_installing_a_plugin_shows_that_it_loads_and_its_tools(make_scratch_env):
    env = make_scratch_env()

    result = env.mcp_host("install", str(PLUGIN_DISTS / "echo"), OFFLINE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "echo  (mcp-host-echo 0.3.0)  loaded",
        "    tools: echo",
        "restart mcp-host to serve them",
    ]
    assert f"installing {PLUGIN_DISTS / 'echo'} with pip ..." in result.stderr
    assert "checking that the installed plugins load ..." in result.stderr
    # pip's own progress, as it went, on stderr: stdout is the report.
    progress = result.stderr.index("Successfully installed mcp-host-echo-0.3.0")
    assert result.stderr.index("with pip ...") < progress < result.stderr.index("checking that the")
    # Into the environment the host runs in: the next start serves it.
    assert _installed_plugins(env)["echo"]["status"] == "loaded"


def test_a_plugin_that_fails_to_load_is_reported_with_its_error_and_exit_code_1(make_scratch_env):
    env = make_scratch_env()

    result = env.mcp_host("install", str(PLUGIN_DISTS / "broken"), OFFLINE)

    assert result.returncode == 1
    assert result.stdout.startswith(
        "broken  (mcp-host-broken 0.0.1)  failed: failed to import 'mcp_host_broken': ModuleNotFoundError: "
        "No module named 'mcp_host_dependency_that_is_not_installed'"
    )
    assert "mcp-host install: plugin 'broken' (mcp-host-broken) failed to load" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_settings_the_config_gives_a_new_plugin_are_checked(make_scratch_env, tmp_path):
    env = make_scratch_env()
    config = tmp_path / "config.toml"
    config.write_text('[plugins.echo]\nshout = "very"\n')

    result = env.mcp_host("install", "--config", str(config), str(PLUGIN_DISTS / "echo"), OFFLINE)

    assert result.returncode == 1
    assert "    problem: plugins.echo.shout: input should be a valid boolean" in result.stdout
    assert "mcp-host install: plugins.echo.shout: input should be a valid boolean" in result.stderr


def test_when_pip_fails_its_output_is_shown_and_nothing_is_checked(make_scratch_env, tmp_path):
    env = make_scratch_env()
    not_a_project = tmp_path / "not-a-project"
    not_a_project.mkdir()

    result = env.mcp_host("install", str(not_a_project), OFFLINE)

    assert result.returncode == 1
    assert "is not installable" in result.stderr  # pip's own words
    assert "mcp-host install: pip failed (exit code 1); nothing was checked" in result.stderr
    assert result.stdout == ""


def test_a_package_that_is_no_plugin_is_reported(make_scratch_env, tmp_path):
    env = make_scratch_env()
    project = _write_project(tmp_path / "plain", name="plain-library", module="plain_library")

    result = env.mcp_host("install", str(project), OFFLINE)

    assert result.returncode == 1
    assert result.stdout.startswith("plain-library 1.0  is installed but announces no plugin")
    assert "it has no entry point in the 'mcp_host' group" in result.stderr


def test_an_editable_install_of_a_plugin_being_written(make_scratch_env, tmp_path):
    env = make_scratch_env()
    new = subprocess.run(
        [env.python, "-m", "mcp_host", "new-plugin", "shout", "--dir", str(tmp_path / "shout")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert new.returncode == 0

    result = env.mcp_host("install", "-e", str(tmp_path / "shout"), OFFLINE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("shout  (mcp-host-shout 0.1.0)  loaded\n    tools: shout_greet\n")


def test_a_package_or_editable_path_is_required(make_scratch_env):
    result = make_scratch_env().mcp_host("install")
    assert result.returncode == 2
    assert "name at least one PACKAGE or -e PATH" in result.stderr


def test_a_plugin_named_that_is_installed_already_is_still_shown(make_scratch_env):
    # The scratch env sees the test environment's packages, which include mcp-host-time: pip finds
    # the requirement satisfied and installs nothing, but the user still learns what it serves.
    result = make_scratch_env().mcp_host("install", "mcp-host-time", OFFLINE)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(
        "time  (mcp-host-time 0.1.0)  loaded\n    tools: current_time, convert_time\n"
    )


def _write_project(root: Path, *, name: str, module: str) -> Path:
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\n'
    )
    return root
