"""The official MCP conformance suite against a real host's /mcp: every scenario that each
protocol revision requires, with no baseline, then every scenario the suite has.

The host serves the conformance fixtures plugin, pip-installed like any plugin. A required
scenario must pass, whatever the era: 2026-07-28 (sessionless) and 2025-11-25 (handshake).
``--suite all`` adds the extension and pending scenarios; those it does not pass are listed in
``expected-failures.yml``, each genuinely unsupported, and one that starts to pass fails the
run (the suite calls that a stale baseline). A scenario can also pass without reaching its
fixture (``tools-list`` passes with no tools at all), so the fixtures record their calls and
every one must have been called.
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

REQUIREMENTS = {"2026-07-28": 37, "2025-11-25": 30}
"""The protocol revisions whose required scenarios must all pass, and how many each has."""

NOT_CALLED = {
    "json_schema_2020_12_tool": "json-schema-2020-12 only lists it",
    "test://watched-resource": "resources-subscribe only subscribes to it",
    "test_streaming_elicitation": "server-stateless stops at the input_required its resolver answers",
}
"""Fixtures whose body a scenario may not run; test_fixtures.py and test_current_revision.py
cover them."""

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


def _listed(node_clients: NodeClients, *args: str) -> set[str]:
    listed = node_clients.run("conformance", "list", "--server", *args)
    server_part = listed.stdout.split("Client scenarios")[0]
    return set(re.findall(r"^\s+- (\S+)", server_part, re.MULTILINE))


def _run(node_clients: NodeClients, fixtures_host: FixturesHost, output_dir: Path, *args: str) -> str:
    run = node_clients.run(
        "conformance",
        "server",
        *("--url", fixtures_host.host.url("/mcp")),
        *args,
        *("--output-dir", str(output_dir)),
        timeout=900,
    )
    summary = run.stdout[run.stdout.find("=== SUMMARY ===") :]
    assert run.returncode == 0, f"{summary}\n{run.stderr}\nhost log:\n{fixtures_host.host.log}"
    return summary


@pytest.mark.parametrize("revision", sorted(REQUIREMENTS))
def test_every_required_scenario_passes_with_no_baseline(
    revision: str, fixtures_host: FixturesHost, node_clients: NodeClients, tmp_path: Path
):
    required = _listed(node_clients, "--requirements", revision)
    assert len(required) == REQUIREMENTS[revision], sorted(required)

    _run(node_clients, fixtures_host, tmp_path, "--requirements", revision)

    results = _scenario_results(tmp_path)
    assert required <= set(results), f"required scenarios that did not run: {required - set(results)}"
    failed = {
        scenario: [check["id"] for check in results[scenario] if check["status"] == "FAILURE"]
        for scenario in required
    }
    assert not {scenario: ids for scenario, ids in failed.items() if ids}
    assert "Traceback" not in fixtures_host.host.log


def test_the_whole_suite_passes_but_for_the_baseline(
    fixtures_host: FixturesHost, node_clients: NodeClients, tmp_path: Path
):
    scenarios = _listed(node_clients)
    assert len(scenarios) > 20, scenarios
    fixtures_host.calls_file.unlink(missing_ok=True)  # count this run's calls alone

    _run(node_clients, fixtures_host, tmp_path, "--suite", "all", "--expected-failures", str(BASELINE))

    assert set(_scenario_results(tmp_path)) >= scenarios, "some scenarios did not run"
    fixtures = TOOLS | RESOURCES | RESOURCE_TEMPLATES | PROMPTS | COMPLETIONS
    called = set(fixtures_host.calls())
    assert called <= fixtures
    assert fixtures - called <= set(NOT_CALLED), "fixtures no scenario reached"
    assert "Traceback" not in fixtures_host.host.log
