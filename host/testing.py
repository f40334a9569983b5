"""Helpers for testing the host and its plugins against a real running host.

``run_host`` starts ``mcp-host`` in a child process on a free loopback port, exactly as a
user would run it, and hands back its URLs and its log; it stops the host on exit.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_SERVING = re.compile(
    r"serving '[^']*' \(\d+ tools\) at (?P<url>http://\S+?(?:/servers/(?P<key>[^/]+))?/sse)$"
)


class HostDidNotStart(RuntimeError):
    """The host exited, or did not report that it serves, in time; the message has its log."""


@dataclass
class LiveHost:
    process: subprocess.Popen[str]
    urls: dict[str, str] = field(default_factory=dict)
    """SSE URL of each server, by its key: ``"default"`` or the name in ``[servers.<name>]``."""
    log_lines: list[str] = field(default_factory=list)

    def sse_url(self, server: str = "default") -> str:
        return self.urls[server]

    @property
    def base_url(self) -> str:
        url = next(iter(self.urls.values()))
        return url[: url.index("/", len("http://"))]

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def log(self) -> str:
        return "\n".join(self.log_lines)

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until a log line matches ``pattern`` (a regex) and return the match."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log_lines):
                match = compiled.search(line)
                if match:
                    return match
            time.sleep(0.02)
        raise AssertionError(f"no log line matched {pattern!r} within {timeout} s; log:\n{self.log}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@contextmanager
def run_host(
    config: str | Path,
    *,
    python: str | Path = sys.executable,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    servers: int | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[LiveHost]:
    """Run ``python -m mcp_host serve`` on ``config`` (a path, or TOML text) on a free port.

    Waits until the host has logged the URL of every server (``servers`` of them; counted
    from the config's ``[servers.*]`` tables when not given).
    """
    with tempfile.TemporaryDirectory(prefix="mcp-host-test-") as scratch:
        if isinstance(config, Path):
            config_path = config
        else:
            config_path = Path(scratch) / "config.toml"
            config_path.write_text(config, encoding="utf-8")
        expected = servers if servers is not None else 1 + _count_named_servers(config_path)
        command = [str(python), "-m", "mcp_host", "serve", "--config", str(config_path), "--port", "0", *args]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        host = LiveHost(process)
        reader = threading.Thread(target=_read_lines, args=(process, host), daemon=True)
        reader.start()
        try:
            _wait_until_serving(host, expected, startup_timeout)
            yield host
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            reader.join(5)


def _count_named_servers(path: Path) -> int:
    import tomllib

    try:
        return len(tomllib.loads(path.read_text(encoding="utf-8")).get("servers", {}))
    except (OSError, tomllib.TOMLDecodeError):
        return 0


def _read_lines(process: subprocess.Popen[str], host: LiveHost) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip("\n")
        host.log_lines.append(line)
        match = _SERVING.search(line)
        if match:
            host.urls[match.group("key") or "default"] = match.group("url")


def _wait_until_serving(host: LiveHost, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(host.urls) >= expected:
            return
        if host.process.poll() is not None:
            time.sleep(0.1)  # let the reader drain the last lines
            raise HostDidNotStart(f"mcp-host exited with {host.process.returncode}; log:\n{host.log}")
        time.sleep(0.02)
    raise HostDidNotStart(f"mcp-host did not report {expected} server URLs in {timeout} s; log:\n{host.log}")
