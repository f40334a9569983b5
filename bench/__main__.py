"""``python -m bench [--quick | --full]``: run the benchmark, print its table, write its JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

from bench.chart import ChartUnavailable, draw
from bench.launch import SERVERS, TS_SDK, available_servers, node_problem
from bench.phases import PROFILES
from bench.report import markdown
from bench.run import run_benchmark

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    for profile, sizes in PROFILES.items():
        size.add_argument(
            f"--{profile}",
            dest="profile",
            action="store_const",
            const=profile,
            help=(
                f"{sizes.repeats} repeats of {sizes.rounds} turns of C={sizes.concurrency} K={sizes.calls}; "
                f"M={sizes.churn_rss} S={sizes.capacity}"
            ),
        )
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=SERVERS,
        metavar="SERVER",
        help=f"some of: {', '.join(SERVERS)} (default: every one this machine can run; "
        f"{TS_SDK} needs Node: bash .ci/install-node-clients)",
    )
    parser.add_argument(
        "--transports",
        nargs="+",
        choices=["sse", "mcp", "modern"],
        default=["sse", "mcp", "modern"],
        help="modern: /mcp at the sessionless revision 2026-07-28, for the servers that speak it",
    )
    parser.add_argument(
        "--repeats",
        type=_positive,
        help="repeats of the speed phases, each on fresh servers (default: the profile's; --full: 5)",
    )
    parser.add_argument(
        "--out", type=Path, help="the JSON report (default: bench/results/<profile>-<time>.json)"
    )
    args = parser.parse_args(argv)
    if args.servers and TS_SDK in args.servers and (problem := node_problem()) is not None:
        parser.error(f"{TS_SDK}: {problem}")
    servers = args.servers or available_servers()
    profile = args.profile or "quick"
    sizes = PROFILES[profile]
    if args.repeats:
        sizes = dataclasses.replace(sizes, repeats=args.repeats)
    out = args.out or RESULTS / f"{profile}-{time.strftime('%Y%m%d-%H%M%S')}.json"

    # SIGTERM as Ctrl-C, so that the servers started so far are stopped on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if TS_SDK not in servers and args.servers is None:
        say(f"without {TS_SDK}: {node_problem()}")
    report = run_benchmark(profile, sizes, servers, args.transports, out.parent, say)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"JSON: {out}")
    try:
        print(f"chart: {draw(report, out.with_suffix('.png'))}")
    except ChartUnavailable as exc:
        print(exc)
    return 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {number}")
    return number


if __name__ == "__main__":
    sys.exit(main())
