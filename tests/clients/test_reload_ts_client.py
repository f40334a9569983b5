"""A TypeScript SDK client, the stack Cursor builds on, follows a reload on its open session:
the SDK's ``listChanged`` option lists the tools again on ``notifications/tools/list_changed``
(it only does so when the server advertises ``tools.listChanged``)."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from mcp_host.testing import run_host
from tests.clients.node import BIN, CLIENTS_DIR, NodeClients

WITHOUT_TIME = "[plugins.broken]\nenabled = false\n"
"""The test plugins are not installed here: the time plugin, which the host's own
environment has, is the one a reload enables."""


@pytest.mark.parametrize(("path", "transport"), [("/sse", "sse"), ("/mcp", "http")])
def test_typescript_sdk_client_sees_the_tool_a_reload_adds(
    path, transport, node_clients: NodeClients, tmp_path
):
    config = tmp_path / "config.toml"
    config.write_text("[plugins.time]\nenabled = false\n")
    with run_host(config) as host:
        client = subprocess.Popen(
            [
                str(BIN / "node"),
                "ts_sdk_list_changed.mjs",
                host.url(path),
                transport,
                "current_time",
                '{"zone": "UTC"}',
            ],
            cwd=CLIENTS_DIR,
            env=node_clients.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert client.stdout is not None
            ready = json.loads(client.stdout.readline() or "{}")
            assert "ready" in ready, client.stderr.read() if client.stderr else ""
            assert "current_time" not in ready["ready"]
            config.write_text("")
            host.process.send_signal(signal.SIGHUP)
            out, err = client.communicate(timeout=60)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
    assert client.returncode == 0, err
    done = json.loads(out)
    assert "current_time" in done["tools"]
    assert set(ready["ready"]) < set(done["tools"])
    assert not done["result"].get("isError"), done["result"]
