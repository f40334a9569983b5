"""The benchmark runs and reports: every phase, every server, both transports. Tiny sizes and
no timing assertions; the figures themselves are read in BENCHMARKS.md, never checked here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.launch import available_servers, speaks

REPO = Path(__file__).resolve().parent.parent
SERVERS = set(available_servers())
"""The TypeScript SDK's server too, where the Node clients are installed (as in CI)."""
PHASES = {"connect", "handshake", "calls", "churn", "churn_rss", "capacity", "server", "spread", "repeats"}
SPEED_PHASES = {"connect", "handshake", "calls", "churn"}


def _bench(*args: str, timeout: int) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS`` from the repository, as a user runs the benchmark: it must succeed."""
    run = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    return run


@pytest.mark.slow
def test_the_smoke_run_reports_every_phase_of_every_server(tmp_path: Path) -> None:
    report_path = tmp_path / "results" / "report.json"
    run = _bench("bench", "--smoke", "--out", str(report_path), timeout=600)
    assert "### Every server, every transport" in run.stdout
    assert "### HTTP+SSE (/sse)" in run.stdout
    assert "### Streamable HTTP (/mcp)" in run.stdout
    assert "### Streamable HTTP at 2026-07-28, sessionless (/mcp)" in run.stdout
    chart = report_path.with_suffix(".png")
    assert f"chart: {chart}" in run.stdout or "no chart: matplotlib is not installed" in run.stdout
    if f"chart: {chart}" in run.stdout:
        assert chart.read_bytes().startswith(b"\x89PNG")

    report = json.loads(report_path.read_text())
    assert report["profile"] == "smoke"
    assert set(report["results"]) == {"sse", "mcp", "modern"}
    for transport, results in report["results"].items():
        speaking = {server for server in SERVERS if speaks(server, transport)}
        assert set(results) == speaking, transport
        for server, measured in results.items():
            where = f"{server} on {transport}"
            # 2026-07-28 has no session to hold idle: no capacity phase.
            assert set(measured) == PHASES - ({"capacity"} if transport == "modern" else set()), where
            assert measured["connect"]["errors"] == measured["handshake"]["errors"] == 0, where
            assert measured["calls"]["errors"] == 0, where
            assert (
                measured["calls"]["calls"]
                == measured["calls"]["sessions"] * measured["calls"]["calls_per_session"]
            )
            assert measured["churn"]["errors"] == measured["churn_rss"]["errors"] == 0, where
            # Every repeat has its own figures and turns; the headline is their median.
            assert len(measured["repeats"]) == report["sizes"]["repeats"] > 1, where
            for repeat in measured["repeats"]:
                assert set(repeat) == SPEED_PHASES | {"turns"}, where
                assert len(repeat["turns"]) == report["sizes"]["rounds"], where
            spread = measured["spread"]["calls"]["calls_per_s"]
            assert spread["min"] <= measured["calls"]["calls_per_s"] <= spread["max"], where
            if "capacity" in measured:
                assert measured["capacity"]["alive"] == measured["capacity"]["sessions"], where
            assert measured["server"]["log_problems"] == 0, (
                where,
                Path(measured["server"]["log"]).read_text(),
            )
        assert set(report["ratios"][transport]) == speaking - {"mcp-host"}
        for baseline, row in report["ratios"][transport].items():
            calls = row["tool calls/s"]
            assert len(calls["repeats"]) == report["sizes"]["repeats"], (transport, baseline)
            assert calls["min"] <= calls["median"] <= calls["max"], (transport, baseline)
    assert set(report["stacks"]) == SERVERS
    assert report["stacks"]["mcp-host"] == "uvloop, httptools"
    assert all(target["measured"] is not None for target in report["targets"]), report["targets"]
    assert all(target["min"] <= target["measured"] <= target["max"] for target in report["targets"])
    load = report["machine"]["load_average"]
    assert load["one_minute"]["min"] <= load["one_minute"]["median"] <= load["one_minute"]["max"]


def test_the_in_process_layer_costs_report_every_layer() -> None:
    run = _bench("bench.layers", "--in-process", "--profile", "smoke", timeout=300)
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and "µs" not in line]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]] == [
        "tool-guard",
        "middlewares",
        "metrics",
        "logging",
    ]


@pytest.mark.slow
def test_the_session_memory_probe_reports_rss_and_its_owners() -> None:
    run = _bench("bench.session_memory", "--sessions", "5", "--traced", "5", timeout=300)
    assert "RSS per idle sse session:" in run.stdout
    assert "traced per session:" in run.stdout
    # The SDK's own code holds part of every session: its rows are there, by owner and package.
    assert "| mcp/" in run.stdout
    assert "| mcp |" in run.stdout
