"""``python -m bench.telemetry``: what exporting traces costs the host, off against on.

The host runs as the main benchmark runs it (``mcp-host serve``, the bench plugin alone,
logging warnings only), once as shipped, with no ``[telemetry]`` (no tracer provider: the
SDK's spans are no-ops and the host adds none), and once with ``[telemetry]`` exporting every
span over OTLP/HTTP to a receiver in another process that answers as a collector does. One
SDK client calls the ``add`` tool over Streamable HTTP, and the figure is the host process's
CPU per call (from /proc), the batch processor's exporter thread included. The two take
alternating turns, each in a fresh process; the table gives the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from bench.launch import HOST, MCP_HOST, PluginEnv, running
from bench.proc import cpu_seconds

RECEIVER = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Collector(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
print(server.server_address[1], flush=True)
server.serve_forever()
"""
WARM_UP_CALLS = 200


async def _host_cpu_per_call_us(env: PluginEnv, log: Path, calls: int) -> float:
    with running(MCP_HOST, env, log) as (process, port):
        url = f"http://{HOST}:{port}/mcp"
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            for number in range(WARM_UP_CALLS):
                await client.call_tool("add", {"a": number, "b": 1})
            before = cpu_seconds(process.pid)
            for number in range(calls):
                await client.call_tool("add", {"a": number, "b": 1})
            return (cpu_seconds(process.pid) - before) / calls * 1e6


async def _measure(env: PluginEnv, endpoint: str, calls: int, rounds: int) -> dict[str, list[float]]:
    exporting = env.config.with_name("mcp-host-telemetry.toml")
    exporting.write_text(env.config.read_text() + f"\n[telemetry]\nendpoint = '{endpoint}'\n")
    hosts = {"off": env, "on": replace(env, config=exporting)}
    found: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for mode, host in hosts.items():
            log = env.config.with_name(f"{mode}.log")
            found[mode].append(await _host_cpu_per_call_us(host, log, calls))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.telemetry", description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="tool calls per turn")
    parser.add_argument("--rounds", type=int, default=5, help="turns of each, alternating")
    args = parser.parse_args(argv)
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        endpoint = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
        with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as scratch:
            env = PluginEnv.create(Path(scratch))
            found = asyncio.run(_measure(env, endpoint, args.calls, args.rounds))
    finally:
        receiver.terminate()
        receiver.wait()
    off, on = (statistics.median(found[mode]) for mode in ("off", "on"))
    print("| telemetry | host CPU per tool call (µs), median | against off |")
    print("| --- | ---: | ---: |")
    print(f"| off (no [telemetry]) | {off:,.0f} | 1.00x |")
    print(f"| on (every span exported over OTLP/HTTP) | {on:,.0f} | {on / off:.2f}x |")
    rounded = {mode: [round(value) for value in values] for mode, values in found.items()}
    print(f"\n{args.rounds} alternating turns of {args.calls} calls each: {json.dumps(rounded)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
