"""The status page in a real browser: Debian's Chromium, headless, driven through chromedriver.

Nothing is downloaded: Selenium is given the system's chromium and chromedriver (and told to
stay offline), and the browser starts with a new empty profile and its background traffic off.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client

from mcp_host.testing import LiveHost, run_host

from .external_tools import skip_reason
from .wire import QUIET

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
if (CHROMIUM is None or CHROMEDRIVER is None) and not os.environ.get("CI"):
    pytest.skip(skip_reason("Chromium"), allow_module_level=True)

from selenium import webdriver  # noqa: E402  (a dev dependency, needed only with Chromium)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.anyio

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,900",
)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    assert CHROMIUM is not None
    assert CHROMEDRIVER is not None, "chromedriver is not installed: bash .ci/install-test-tools"
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _load_status_page(driver: webdriver.Chrome, host: LiveHost) -> str:
    driver.get(host.base_url + "/")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements("css selector", "#servers tbody tr"))
    return str(driver.find_element("css selector", "body").text)


async def test_the_status_page_shows_the_tools_and_a_live_session_without_console_errors(
    plugin_env, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    config = "[server]\nname = 'lab'\nplugins = ['counter']\n" + QUIET
    with run_host(config, python=plugin_env.python) as host:
        async with sse_client(host.sse_url()) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            await client.call_tool("increment", {})
            await client.call_tool("increment", {"by": 0})
            # The browser blocks its caller; the client's session lives on in this event loop.
            text = await anyio.to_thread.run_sync(_load_status_page, browser, host)
            browser.save_screenshot(str(tmp_path / "status-page.png"))
        console = browser.get_log("browser")

    lines = text.splitlines()
    assert lines[0].startswith("mcp-host ")
    assert "1 live session" in text
    assert f"{host.base_url}/mcp (Streamable HTTP)" in lines
    assert {"increment", "whoami", "crash"} <= set(text.split())
    assert text.count("sse: 1") == 1
    assert any(line.startswith("default increment 2 1 ") for line in lines), text
    assert "broken disabled 0.0.1" in lines
    assert [entry for entry in console if entry["level"] in ("SEVERE", "WARNING")] == []
    assert (tmp_path / "status-page.png").stat().st_size > 10_000
