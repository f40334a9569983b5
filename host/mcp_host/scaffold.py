"""The files of a new plugin package, written from ``scaffold-template/``: ``mcp-host new-plugin``.

A plugin called ``NAME`` is the distribution ``mcp-host-NAME`` (pip's name), the import package
``mcp_host_NAME``, the entry point ``NAME`` in the ``mcp_host`` group, and the config table
``[plugins.NAME]``. The package it writes installs with ``pip install -e`` and its own tests,
built on ``mcp_host.testing``, pass straight away.
"""

from __future__ import annotations

import json
import keyword
import re
import shlex
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from mcp_host.hookspecs import PROJECT_NAME
from mcp_host.version import host_version

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
MAX_NAME_LENGTH = 40

# Each template, and where its output goes in the new package; ``{package}`` and ``{name}``
# stand for the plugin's import package and name.
TEMPLATES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "package/__init__.py.tmpl": "{package}/__init__.py",
    "package/py.typed": "{package}/py.typed",
    "tests/conftest.py.tmpl": "tests/conftest.py",
    "tests/test_plugin.py.tmpl": "tests/test_{name}.py",
}


class ScaffoldError(Exception):
    """The plugin cannot be created as asked; the message says why and what would work."""


@dataclass(frozen=True)
class PluginNames:
    """Every name a plugin goes by, derived from its one short name."""

    name: str
    """The entry point's name and the config table's key: ``time``."""

    @property
    def distribution(self) -> str:
        """What ``pip install`` takes: ``mcp-host-time``."""
        return "mcp-host-" + self.name.replace("_", "-")

    @property
    def package(self) -> str:
        """What ``import`` takes: ``mcp_host_time``."""
        return "mcp_host_" + self.name

    @property
    def example_tool(self) -> str:
        # Tool names are global in a host; the plugin's name keeps the example's unique.
        return f"{self.name}_greet"


def plugin_names(name: str) -> PluginNames:
    """Check a plugin name as the user typed it; ``ScaffoldError`` explains a bad one."""
    if name.startswith(("mcp_host", "mcp-host")):
        raise ScaffoldError(
            f"plugin name {name!r}: give the plugin's own name, without the 'mcp-host-' prefix "
            f"(for example 'time' makes mcp-host-time)"
        )
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"plugin name {name!r}: use lower-case letters and digits, words joined by single '_', "
            f"starting with a letter (for example 'time' or 'world_clock')"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ScaffoldError(f"plugin name {name!r}: at most {MAX_NAME_LENGTH} characters")
    if keyword.iskeyword(name):
        raise ScaffoldError(f"plugin name {name!r}: a Python keyword cannot name a plugin's functions")
    return PluginNames(name)


def create_plugin(name: str, directory: Path | None = None) -> Path:
    """Write a new plugin package into ``directory`` (default ``./mcp-host-NAME``) and return it.

    The directory must not exist, or be empty: nothing is ever overwritten.
    """
    names = plugin_names(name)
    _refuse_an_installed_name(names)
    target = directory if directory is not None else Path(names.distribution)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty directory; choose another --dir")
    rendered = render(names)
    target.mkdir(parents=True, exist_ok=True)
    for relative, text in rendered.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:  # "x": never replace a file
            file.write(text)
    return target


def _refuse_an_installed_name(names: PluginNames) -> None:
    """Two plugins of one name cannot both be served: the second would never load."""
    for entry_point in entry_points(group=PROJECT_NAME):
        if entry_point.name == names.name:
            owner = entry_point.dist.name if entry_point.dist is not None else "an installed distribution"
            raise ScaffoldError(
                f"plugin name {names.name!r} is taken: {owner} installs a plugin of that name; "
                f"choose another name (for example 'my_{names.name}'), or 'pip uninstall {owner}' first"
            )


def host_source() -> str:
    """What to give pip for the mcp-host this plugin is written for.

    mcp-host is not on a package index: a plugin's own virtualenv gets it from where the
    running mcp-host was installed from (a checkout or a wheel: pip records it, PEP 610).
    """
    try:
        recorded = distribution("mcp-host").read_text("direct_url.json")
    except PackageNotFoundError:
        recorded = None
    url = str(json.loads(recorded).get("url", "")) if recorded else ""
    if url.startswith("file://"):
        return shlex.quote(url.removeprefix("file://"))
    return "mcp-host"


def render(names: PluginNames) -> dict[str, str]:
    """The new package's files, by their path inside it."""
    values = {
        "name": names.name,
        "distribution": names.distribution,
        "package": names.package,
        "tool": names.example_tool,
        "host_requirement": _host_requirement(),
        "host_source": host_source(),
    }
    templates = files("mcp_host") / "scaffold-template"
    return {
        target.format(package=names.package, name=names.name): Template(_read(templates, source)).substitute(
            values
        )
        for source, target in TEMPLATES.items()
    }


def _read(root: Traversable, relative: str) -> str:
    node = root
    for part in relative.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


def _host_requirement() -> str:
    """The host that wrote the plugin, or any later one of the same major version."""
    release = host_version().split("+")[0].split(".")
    if len(release) < 2 or not (release[0].isdigit() and release[1].isdigit()):
        return "mcp-host"  # a checkout without metadata: no version to pin to
    major, minor = int(release[0]), int(release[1])
    return f"mcp-host>={major}.{minor},<{major + 1}"
