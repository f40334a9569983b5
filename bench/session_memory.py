"""``python -m bench.session_memory``: what one idle session of mcp-host holds, and who owns it.

Starts ``mcp-host serve`` (the bench plugin alone, as ``python -m bench`` runs it, or
``--config`` for another config, e.g. the shipped ``config.toml``), then:

1. opens ``--sessions`` idle sessions (``initialize``, ``notifications/initialized``,
   ``tools/list``, then idle with the stream open, as the capacity phase), and reads the RSS
   per session (settled, as ``python -m bench`` reads it);
2. starts ``tracemalloc`` in the server (a signal; start-up and the sessions of step 1 are not
   traced), opens ``--traced`` more, takes a snapshot (another signal) and groups what is
   still allocated per session by the frame that owns it: the innermost frame outside the
   standard library, anyio, pydantic and the like (they allocate on someone's behalf).

Allocation counts and sizes do not depend on the machine's load, where times do: this is the
measure to cut memory by. Nothing here is a timed assertion; it prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import sysconfig
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

from bench.clients import Session, handshake
from bench.launch import HOST, MCP_HOST, PluginEnv, running
from bench.proc import raise_open_files_limit, settled_rss_kib

FRAMES = 40
SNAPSHOT = "MCP_HOST_BENCH_SNAPSHOT"
"""The environment variable naming the file the server writes its snapshot to."""
STDLIB = sysconfig.get_paths()["stdlib"]
HELPERS = ("/anyio/", "/pydantic/", "/pydantic_core/", "/typing_extensions.py", "<frozen", "<string>")
"""Code that allocates on behalf of its caller (with the standard library): the owner is the
first frame outside it."""


def probe_main() -> None:
    """The server side, run as ``python -m bench.session_memory --serve ARGS``: ``mcp-host``'s
    CLI, with SIGUSR1 starting ``tracemalloc`` and SIGUSR2 writing a snapshot."""

    def start(_signum: int, _frame: object) -> None:
        tracemalloc.start(FRAMES)

    def snapshot(_signum: int, _frame: object) -> None:
        import gc

        gc.collect()
        path = os.environ[SNAPSHOT]
        tracemalloc.take_snapshot().dump(path + ".part")
        os.replace(path + ".part", path)  # whole, or not there

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, snapshot)
    from mcp_host.cli import main as host_main

    sys.exit(host_main(sys.argv[2:]))


def owner(traceback: tracemalloc.Traceback) -> str:
    for frame in reversed(traceback):  # innermost last, as tracemalloc keeps them oldest first
        helper = frame.filename.startswith(STDLIB) and "site-packages" not in frame.filename
        if not helper and not any(part in frame.filename for part in HELPERS):
            return f"{_short(frame.filename)}:{frame.lineno}"
    return f"{_short(traceback[-1].filename)}:{traceback[-1].lineno}"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/host/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


async def _open_idle(port: int, transport: str, count: int, parallel: int = 25) -> list[Session]:
    from bench.clients import new_session

    held: list[Session] = []
    gate = asyncio.Semaphore(parallel)

    async def one() -> None:
        async with gate:
            session = new_session(transport, HOST, port)  # type: ignore[arg-type]
            await session.open()
            answer = await handshake(session)
            if "result" not in answer:
                raise RuntimeError(f"tools/list failed: {answer}")
            session.release_connection()
            held.append(session)

    await asyncio.gather(*(one() for _ in range(count)))
    return held


async def measure(
    pid: int, port: int, transport: str, sessions: int, traced: int, snapshot: Path, keep: Path | None
) -> None:
    warm = await _open_idle(port, transport, 50)
    before = await settled_rss_kib(pid)
    held = await _open_idle(port, transport, sessions)
    after = await settled_rss_kib(pid)
    print(f"RSS per idle {transport} session: {(after - before) / sessions:.1f} KiB ({sessions} sessions)")

    os.kill(pid, signal.SIGUSR1)
    await asyncio.sleep(0.5)
    os.kill(pid, signal.SIGUSR2)  # the baseline snapshot: tracing has just started
    await _wait_for(snapshot)
    base = tracemalloc.Snapshot.load(str(snapshot))
    await asyncio.to_thread(snapshot.unlink)
    held += await _open_idle(port, transport, traced)
    await settled_rss_kib(pid)
    os.kill(pid, signal.SIGUSR2)
    await _wait_for(snapshot)
    final = tracemalloc.Snapshot.load(str(snapshot))
    if keep is not None:
        base.dump(str(keep / "before.snapshot"))
        final.dump(str(keep / "after.snapshot"))
    _report(base, final, traced)
    for session in warm + held:
        await session.close()


async def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.3)
    raise TimeoutError(f"the server wrote no snapshot to {path}")


def _report(base: tracemalloc.Snapshot, final: tracemalloc.Snapshot, sessions: int) -> None:
    by_owner: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_package: dict[str, int] = defaultdict(int)
    for stat in final.compare_to(base, "traceback"):
        if stat.size_diff <= 0:
            continue
        where = owner(stat.traceback)
        by_owner[where][0] += stat.size_diff
        by_owner[where][1] += stat.count_diff
        by_package[_package(where)] += stat.size_diff
    total = sum(size for size, _ in by_owner.values())
    print(f"\ntraced per session: {total / sessions / 1024:.1f} KiB ({sessions} sessions)\n")
    print("| owner | KiB per session | blocks per session |\n| --- | ---: | ---: |")
    for where, (size, count) in sorted(by_owner.items(), key=lambda item: -item[1][0])[:40]:
        print(f"| {where} | {size / sessions / 1024:.2f} | {count / sessions:.1f} |")
    print("\n| package | KiB per session |\n| --- | ---: |")
    for package, size in sorted(by_package.items(), key=lambda item: -item[1]):
        print(f"| {package} | {size / sessions / 1024:.2f} |")


def _package(where: str) -> str:
    return where.split("/", 1)[0].split(".py", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.session_memory", description=__doc__)
    parser.add_argument("--transport", choices=["sse", "mcp"], default="sse")
    parser.add_argument("--sessions", type=int, default=1000, help="for the RSS per session")
    parser.add_argument("--traced", type=int, default=300, help="sessions opened while tracing")
    parser.add_argument("--config", type=Path, help="default: the bench plugin alone, as python -m bench")
    parser.add_argument("--keep", type=Path, help="a directory to keep both snapshots in, to read further")
    args = parser.parse_args(argv)
    raise_open_files_limit()
    with tempfile.TemporaryDirectory(prefix="mcp-host-memory-") as scratch:
        env = PluginEnv.create(Path(scratch))
        if args.config is not None:
            # The load generator is one client, as the host counts them: lift its quota.
            config = Path(scratch) / "config.toml"
            config.write_text(
                args.config.read_text(encoding="utf-8") + "\n[limits]\nmax_sessions_per_client = 100000\n",
                encoding="utf-8",
            )
            env = PluginEnv(env.python, config)
        snapshot = Path(scratch) / "snapshot"
        os.environ[SNAPSHOT] = str(snapshot)
        with running(MCP_HOST, env, Path(scratch) / "server.log", probe=True) as (process, port):
            asyncio.run(
                measure(process.pid, port, args.transport, args.sessions, args.traced, snapshot, args.keep)
            )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        probe_main()
    sys.exit(main())
