"""The operator console in a real browser: Debian's headless Chromium driven by Selenium, against the local runtime
with stations built on the `ocpp` package.

One runtime and one browser serve the whole module (starting Chromium costs about a second, the runtime a few):
each test uses its own station ids. The runtime runs its event loop on a thread of its own, so the test drives the
browser synchronously while stations talk on that loop (`LiveRuntime.run`). Waits are Selenium's explicit waits on
what the page shows, never fixed sleeps.

Screenshots of the main pages land in `CONSOLE_SCREENSHOTS` when it is set (`make console-screenshots` refreshes
docs/console/ for the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from csms.runtime.settings import get_settings
from csms.runtime.wiring import get_services
from local.aws import emulated_aws
from local.runtime import LocalConfig, LocalRuntime

TABLE_NAME = "csms-console"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Chromium's own calls home, which this closed network refuses:
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAPTOP = (1366, 900)
WAIT_SECONDS = 20


class LiveRuntime:
    """The local runtime on its own thread and event loop."""

    def __init__(self, events_file: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="console-runtime", daemon=True)
        self.runtime = LocalRuntime(
            LocalConfig(ws_port=0, connections_port=0, api_port=0, table_name=TABLE_NAME, events_file=events_file)
        )

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Runs a coroutine on the runtime's loop (a station's call) and returns its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def console_url(self) -> str:
        return f"{self.runtime.api_url}/console/"

    def start(self) -> None:
        self._thread.start()
        self.run(self.runtime.start())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run(self.runtime.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@contextlib.contextmanager
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRuntime]:
    """A fresh runtime with its own emulated AWS; the functions read their settings anew (from the environment)."""
    get_settings.cache_clear()
    get_services.cache_clear()
    with emulated_aws(TABLE_NAME):
        live_runtime = LiveRuntime(tmp_path_factory.mktemp("console") / "events.jsonl")
        live_runtime.start()
        try:
            yield live_runtime
        finally:
            live_runtime.stop()
            get_settings.cache_clear()
            get_services.cache_clear()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRuntime]:
    with running(tmp_path_factory) as live_runtime:
        yield live_runtime


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `make test` installs Debian's chromium and chromium-driver packages")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = _executable("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options.add_argument(f"--user-data-dir={profile}")  # a fresh profile: no state from another run
    options.add_argument(f"--window-size={LAPTOP[0]},{LAPTOP[1]}")
    # The driver named explicitly: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(_executable("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(browser: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = WAIT_SECONDS) -> Any:
    """Until `condition` returns something truthy (which is returned). An element not there yet, or replaced by the
    page's refresh while read, counts as not yet."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(browser, timeout, poll_frequency=0.1, ignored_exceptions=ignored).until(condition)


def screenshot(browser: WebDriver, name: str) -> None:
    """The whole page (the window made as tall as it, up to 2400 px), at the laptop width."""
    directory = os.environ.get("CONSOLE_SCREENSHOTS")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(LAPTOP[0], min(max(height + 140, LAPTOP[1]), 2400))  # + the window's own frame
    try:
        browser.save_screenshot(str(Path(directory) / f"{name}.png"))
    finally:
        browser.set_window_size(*LAPTOP)


def call_api(live: LiveRuntime, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """The operator API as a script would call it (setting up what a test is not about)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(live.runtime.api_url + path, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None
