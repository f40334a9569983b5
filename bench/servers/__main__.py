"""``python -m bench.servers NAME --port P``: one baseline server, under uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from bench.servers import BASELINES, app_factory


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("name", choices=sorted(BASELINES))
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # What a user of the SDK gets: `pip install mcp` brings uvicorn without its [standard]
    # extra, so h11 and asyncio, even though this environment has httptools and uvloop for
    # mcp-host. Otherwise the settings mcp-host's serve command uses: no access log, warnings
    # only, the lifespan on.
    uvicorn.run(
        app_factory(args.name)(),
        host="127.0.0.1",
        port=args.port,
        http="h11",
        loop="asyncio",
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
