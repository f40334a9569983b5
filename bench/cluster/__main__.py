"""``python -m bench.cluster [--calls K] [--sessions C]``: one process against two, behind nginx.

Starts its own ``redis-server`` and ``nginx`` (Debian packages) and the hosts, on free
loopback ports, runs every phase, prints a Markdown table and writes the JSON beside this
file in ``results/``. Nothing is asserted: see ``README.md`` for how to read the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from bench.clients import Session, SseSession, StreamableSession, handshake

RESULTS = Path(__file__).resolve().parent / "results"
TOOL = "current_time"  # plugins/time: cheap, async, and installed with the dev setup
HOST_CONFIG = """
[server]
plugins = ["time"]
log_level = "warning"

[limits]
max_concurrent_calls = 64
max_sessions_per_client = 100000  # the load generator is one address: one client to the host
{cluster}
"""
CLUSTER = """
[cluster]
redis_url = "redis://127.0.0.1:{redis_port}/0"
key_prefix = "bench"
"""
NGINX = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream hosts {{
{balance}
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://hosts;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;                # SSE: every event as it comes
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


@contextmanager
def process(command: list[str], port: int, what: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, child, what)
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def start_redis(stack: ExitStack, scratch: Path) -> int:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    stack.enter_context(process(command, port, "redis-server", scratch / "redis.log"))
    return port


def start_hosts(stack: ExitStack, scratch: Path, count: int, redis_port: int | None) -> list[int]:
    cluster = CLUSTER.format(redis_port=redis_port) if redis_port else ""
    config = scratch / f"host-{count}-{bool(redis_port)}.toml"
    config.write_text(HOST_CONFIG.format(cluster=cluster))
    ports = []
    for _ in range(count):
        port = free_port()
        command = [sys.executable, "-m", "mcp_host", "serve", "--config", str(config), "--port", str(port)]
        stack.enter_context(process(command, port, "mcp-host", scratch / f"host-{port}.log"))
        ports.append(port)
    return ports


BALANCING = {
    "nginx round robin": "",  # request by request: every other request lands on a non-owner
    # Every request of a client connection to one process: the session's owner, since the
    # load generator keeps one connection per session. What affinity would give: no hops.
    "nginx hash by connection": "        hash $remote_addr$remote_port consistent;",
}


def start_nginx(stack: ExitStack, scratch: Path, upstreams: list[int], balance: str) -> int:
    port = free_port()
    directory = scratch / f"nginx-{port}"
    directory.mkdir()
    directory.chmod(0o755)
    servers = "\n".join(f"        server 127.0.0.1:{upstream};" for upstream in upstreams)
    conf = directory / "nginx.conf"
    conf.write_text(NGINX.format(dir=directory, servers=servers, port=port, balance=BALANCING[balance]))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    stack.enter_context(
        process([nginx, "-c", str(conf), "-p", str(directory)], port, "nginx", directory / "out.log")
    )
    return port


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(latencies: list[float], seconds: float | None = None) -> dict[str, float]:
    figures = {
        "calls": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }
    if seconds is not None:
        figures["calls_per_s"] = round(len(latencies) / seconds, 1)
    return figures


async def _open(client: Session) -> None:
    await client.open()
    await handshake(client)


async def timed_call(session: Session, tool: str) -> float:
    """One ``tools/call``; its latency in seconds. Raises on any failure."""
    started = time.perf_counter()
    answer = await session.request("tools/call", {"name": tool, "arguments": {}})
    elapsed = time.perf_counter() - started
    if "result" not in answer or answer["result"].get("isError"):
        raise RuntimeError(f"tools/call failed: {answer}")
    return elapsed


async def load(make: Callable[[], Any], sessions: int, calls: int) -> dict[str, float]:
    """``sessions`` clients at once, each making ``calls`` tool calls one after another."""
    clients = [make() for _ in range(sessions)]
    await asyncio.gather(*(_open(client) for client in clients))
    for client in clients:  # warm-up
        for _ in range(5):
            await timed_call(client, TOOL)
    latencies: list[float] = []

    async def run(client: Any) -> None:
        for _ in range(calls):
            latencies.append(await timed_call(client, TOOL))

    started = time.perf_counter()
    await asyncio.gather(*(run(client) for client in clients))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(client.close() for client in clients))
    return summary(latencies, elapsed)


async def hop(make: Callable[[], Any], calls: int) -> dict[str, float]:
    """One client, one call at a time: latency without queueing."""
    client = make()
    await _open(client)
    for _ in range(10):
        await timed_call(client, TOOL)
    latencies = [await timed_call(client, TOOL) for _ in range(calls)]
    await client.close()
    return summary(latencies)


def run(calls: int, sessions: int, hop_calls: int, say: Callable[[str], None]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "calls": calls,
        "sessions": sessions,
        "tool": TOOL,
        "cores": os.cpu_count(),
        "rows": [],
    }
    with tempfile.TemporaryDirectory(prefix="mcp-host-cluster-bench-") as temp, ExitStack() as stack:
        scratch = Path(temp)
        scratch.chmod(0o755)
        redis_port = start_redis(stack, scratch)
        setups = [
            ("1 process, no [cluster]", 1, None, ["nginx round robin"]),
            ("1 process, [cluster]", 1, redis_port, ["nginx round robin"]),
            ("2 processes, [cluster]", 2, redis_port, list(BALANCING)),
        ]
        for label, count, redis, balancings in setups:
            with ExitStack() as hosts:
                ports = start_hosts(hosts, scratch, count, redis)
                for balance in balancings:
                    proxy = start_nginx(hosts, scratch, ports, balance)
                    for transport, make in (
                        ("mcp", partial(StreamableSession, "127.0.0.1", proxy)),
                        ("sse", partial(SseSession, "127.0.0.1", proxy)),
                    ):
                        say(f"{label}, {transport}: {sessions} sessions x {calls} calls, {balance}")
                        figures = asyncio.run(load(make, sessions, calls))
                        report["rows"].append(
                            {"setup": label, "transport": transport, "path": balance, **figures}
                        )
                if count == 2:
                    a, b = ports
                    for transport, direct, forwarded in (
                        (
                            "mcp",
                            partial(StreamableSession, "127.0.0.1", a),
                            partial(StreamableSession, "127.0.0.1", a, b),
                        ),
                        ("sse", partial(SseSession, "127.0.0.1", a), partial(SseSession, "127.0.0.1", a, b)),
                    ):
                        say(
                            f"{label}, {transport}: one client, {hop_calls} calls, "
                            "to the owner, then through the other"
                        )
                        report["rows"].append(
                            {
                                "setup": label,
                                "transport": transport,
                                "path": "1 client, to the owner",
                                **asyncio.run(hop(direct, hop_calls)),
                            }
                        )
                        report["rows"].append(
                            {
                                "setup": label,
                                "transport": transport,
                                "path": "1 client, through the other process",
                                **asyncio.run(hop(forwarded, hop_calls)),
                            }
                        )
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"{report['sessions']} sessions x {report['calls']} `tools/call {report['tool']}` each, "
        f"on {report['cores']} cores",
        "",
        "| setup | transport | path | calls/s | p50 ms | p99 ms |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        rate = row.get("calls_per_s", "")
        lines.append(
            f"| {row['setup']} | {row['transport']} | {row['path']} "
            f"| {rate} | {row['p50_ms']} | {row['p99_ms']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--sessions", type=int, default=16, help="clients at once (default 16)")
    parser.add_argument("--calls", type=int, default=200, help="calls per client (default 200)")
    parser.add_argument("--hop-calls", type=int, default=500, help="sequential calls of the one-client phase")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop what was started on the way out
    report = run(
        args.calls, args.sessions, args.hop_calls, lambda message: print(message, file=sys.stderr, flush=True)
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"cluster-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
