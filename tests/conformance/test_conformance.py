"""The official MCP conformance suite, every server scenario, against a real host's /mcp.

The host serves the conformance fixtures plugin, pip-installed like any plugin. The suite
must pass but for the scenarios in ``expected-failures.yml``, each genuinely unsupported;
one that starts to pass fails the run (the suite calls that a stale baseline). A scenario
can also pass without reaching its fixture (``tools-list`` passes with no tools at all), so
the fixtures record their calls and every one must have been called.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clients.node import NodeClients, require_node_clients
from tests.conformance.conftest import (
    COMPLETIONS,
    PROMPTS,
    RESOURCE_TEMPLATES,
    RESOURCES,
    TOOLS,
    FixturesHost,
)

BASELINE = Path(__file__).parent / "expected-failures.yml"

NOT_CALLED = {
    "test://watched-resource": "resources-subscribe only subscribes to it, and fails",
}
"""Fixtures no scenario reaches, because of a failure the baseline lists."""

RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@pytest.fixture(scope="module")
def node_clients(tmp_path_factory: pytest.TempPathFactory) -> NodeClients:
    return require_node_clients(tmp_path_factory.mktemp("node-home"))


def _scenario_results(output_dir: Path) -> dict[str, list[dict[str, object]]]:
    results = {}
    for path in output_dir.iterdir():
        match = RESULT_DIR.match(path.name)
        assert match, f"unexpected result folder {path.name}"
        results[match["scenario"]] = json.loads((path / "checks.json").read_text())
    return results


def test_the_conformance_suite_passes_but_for_the_baseline(
    fixtures_host: FixturesHost, node_clients: NodeClients, tmp_path: Path
):
    listed = node_clients.run("conformance", "list", "--server")
    scenarios = set(re.findall(r"^\s+- (\S+)", listed.stdout, re.MULTILINE))
    assert len(scenarios) > 20, listed.stdout

    run = node_clients.run(
        "conformance",
        "server",
        *("--url", fixtures_host.host.url("/mcp")),
        *("--suite", "all"),
        *("--expected-failures", str(BASELINE)),
        *("--output-dir", str(tmp_path)),
    )
    summary = run.stdout[run.stdout.find("=== SUMMARY ===") :]
    assert run.returncode == 0, f"{summary}\n{run.stderr}\nhost log:\n{fixtures_host.host.log}"

    assert set(_scenario_results(tmp_path)) == scenarios, "some scenarios did not run"

    fixtures = TOOLS | RESOURCES | RESOURCE_TEMPLATES | PROMPTS | COMPLETIONS
    called = set(fixtures_host.calls())
    assert called <= fixtures
    assert fixtures - called == set(NOT_CALLED), "fixtures no scenario reached"
    assert "Traceback" not in fixtures_host.host.log
