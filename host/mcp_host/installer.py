"""Install plugins into the host's own environment with pip, and find out what they added.

pip runs in a child process, and what it installed is then loaded in a fresh Python process,
exactly as the host will load it at its next start: the process that ran pip cannot see it
reliably (a new ``.pth`` file from an editable install, a changed module already imported).

What pip installed is found by comparing the environment's distributions before and after,
not by interpreting the package specs: a spec may be a name, a path, a URL or an editable
checkout, and a meta-package may bring plugins in as dependencies.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import Distribution, distributions
from pathlib import Path
from typing import Any

from mcp_host.config import Problem, load_config
from mcp_host.host import prepare_host
from mcp_host.programs import own_program

CHECK_TIMEOUT_S = 300.0
"""Importing a plugin may be slow (big dependencies), but must not hang the command forever."""

# A requirement that starts with a project name (``name``, ``name[extra]>=1``, ``name @ url``);
# anything else (a path, a URL, an archive) names its distribution only once it is built.
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:$|[\[<>=!~;@\s])")


class NoPip(Exception):
    """The environment has no pip to install with; the message says how to get one."""


def canonical_name(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): ``Mcp_Host.Echo`` is ``mcp-host-echo``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_install_command(
    packages: Sequence[str],
    *,
    editable: Sequence[str] = (),
    upgrade: bool = False,
    pip_args: Sequence[str] = (),
) -> list[str]:
    """The pip command that installs into this interpreter's environment, the one the host runs in."""
    if importlib.util.find_spec("pip") is None:
        raise NoPip(
            f"there is no pip in the environment mcp-host runs in ({sys.prefix}); "
            f"add it with `{sys.executable} -m ensurepip`, or install with another tool "
            f"(`uv pip install --python {sys.executable} PACKAGE`) "
            f"and check with `{own_program('mcp-host')} plugins`"
        )
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    if upgrade:
        command.append("--upgrade")
    for path in editable:
        command += ["--editable", path]
    return [*command, *pip_args, *packages]


def requested_names(specs: Iterable[str]) -> set[str]:
    """The distribution names the specs spell out; paths and URLs name none."""
    names = set()
    for spec in specs:
        looks_like_a_path = os.sep in spec or "/" in spec or os.path.exists(spec)
        match = None if looks_like_a_path else _REQUIREMENT_NAME.match(spec)
        if match:
            names.add(canonical_name(match.group(1)))
    return names


# --- what is installed ---------------------------------------------------------------------


def _first_of_each_name() -> dict[str, Distribution]:
    """Every installed distribution by canonical name; the first on ``sys.path`` wins, as for imports."""
    found: dict[str, Distribution] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical_name(name), dist)
    return found


def _fingerprint(dist: Distribution) -> str:
    """Changes whenever the distribution is installed again, even at the same version.

    importlib.metadata has no public way to a distribution's metadata directory; the path
    finder's distributions (every one on ``sys.path``) keep it in ``_path``. Without it only a
    change of version shows.
    """
    where = getattr(dist, "_path", None)
    try:
        stamp = os.stat(where).st_mtime_ns if where is not None else 0
    except OSError:
        stamp = 0
    return f"{dist.version} {where} {stamp}"


def fingerprints() -> dict[str, str]:
    """Every installed distribution, by canonical name, with its ``_fingerprint``."""
    return {name: _fingerprint(dist) for name, dist in _first_of_each_name().items()}


# --- loading what was installed, in the child process --------------------------------------


@dataclass
class InstalledDistribution:
    """A distribution the install added or changed (or was asked for and already had)."""

    name: str
    version: str
    requested: bool
    plugins: list[dict[str, Any]] = field(default_factory=list)
    """``PluginRecord.as_dict()`` of each of its plugins, plus the config ``problems`` about it."""


@dataclass
class InstallCheck:
    distributions: list[InstalledDistribution]
    """Every distribution the install added or changed, dependencies included."""

    @property
    def with_plugins(self) -> list[InstalledDistribution]:
        return [dist for dist in self.distributions if dist.plugins]

    @property
    def requested_without_plugins(self) -> list[InstalledDistribution]:
        return [dist for dist in self.distributions if dist.requested and not dist.plugins]


def _concerns(problem: Problem, plugin_name: str) -> bool:
    # The host's messages put a plugin's settings under its key path, and name both plugins of a
    # tool-name clash in quotes (the clash is filed under only one of them).
    own_key = f"plugins.{plugin_name}"
    return (
        problem.key_path == own_key
        or problem.key_path.startswith(own_key + ".")
        or f"{plugin_name!r}" in problem.message
    )


def check_installed(before: dict[str, str], requested: set[str], config_path: str | None) -> InstallCheck:
    """Load every plugin of the distributions that changed since ``before`` (or were
    ``requested`` by name), with the whole host as ``mcp-host serve`` would build it."""
    installed = _first_of_each_name()
    changed = [
        name
        for name, dist in installed.items()
        if name in requested or before.get(name) != _fingerprint(dist)
    ]
    config = load_config(Path(config_path) if config_path else None)
    host = prepare_host(config, config_path or "<defaults>")
    records_by_distribution: dict[str, list[dict[str, Any]]] = {}
    for record in host.plugins.records.values():
        if record.distribution is None:
            continue
        problems = [str(problem) for problem in host.problems if _concerns(problem, record.name)]
        document = {**record.as_dict(), "problems": problems}
        records_by_distribution.setdefault(canonical_name(record.distribution), []).append(document)
    return InstallCheck(
        [
            InstalledDistribution(
                name=installed[name].metadata["Name"],
                version=installed[name].version,
                requested=name in requested,
                plugins=records_by_distribution.get(name, []),
            )
            for name in sorted(changed)
        ]
    )


def _child_main(request_path: str, result_path: str) -> None:
    """``python -m mcp_host.installer REQUEST RESULT``: run ``check_installed``, in a fresh process.

    The result goes to a file, not to stdout, which a plugin may print to when imported.
    """
    logging.disable(logging.CRITICAL)  # failures are in the records; the parent reports them
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    check = check_installed(request["before"], set(request["requested"]), request["config"])
    document = [asdict(dist) for dist in check.distributions]
    Path(result_path).write_text(json.dumps(document), encoding="utf-8")


class CheckFailed(Exception):
    """The fresh process that loads the plugins failed or hung; the message has its output."""


def check_in_fresh_process(
    before: dict[str, str], requested: set[str], config_path: Path | None
) -> InstallCheck:
    """``check_installed`` in a new interpreter of this environment, which sees the install."""
    with tempfile.TemporaryDirectory(prefix="mcp-host-install-") as scratch:
        request_path, result_path = Path(scratch, "request.json"), Path(scratch, "result.json")
        request = {
            "before": before,
            "requested": sorted(requested),
            "config": config_path and str(config_path),
        }
        request_path.write_text(json.dumps(request), encoding="utf-8")
        command = [sys.executable, "-m", "mcp_host.installer", str(request_path), str(result_path)]
        try:
            child = subprocess.run(
                command, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"loading the plugins took more than {CHECK_TIMEOUT_S:.0f} s") from None
        if child.returncode != 0 or not result_path.exists():
            output = (child.stderr or child.stdout).strip()
            raise CheckFailed(f"loading the plugins failed (exit code {child.returncode}):\n{output}")
        document = json.loads(result_path.read_text(encoding="utf-8"))
    return InstallCheck([InstalledDistribution(**dist) for dist in document])


if __name__ == "__main__":
    _child_main(*sys.argv[1:3])
