"""Issue 12's "Done when", with the project's own simulator as `make sim ARGS="--stations 3 --sessions"` runs it: the
stations come online and all charge at once on the Network page (each with its own id tag), a session's chart
renders, the session is stopped from the console and its CDR is shown.

Its own runtime (this module's): the network holds these three stations only. The simulator runs on the runtime's
loop with a short pause before each session and long sessions, so none ends by itself while the test looks at it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from simulator.cli import parse_arguments
from simulator.cli import run as run_stations
from simulator.station import SimulatedChargePoint
from tests.console.conftest import LiveRuntime, call_api, wait_for
from tests.console.pages import confirm, notice, open_view, text_of

STATIONS = ("FLOW001", "FLOW002", "FLOW003")
TARIFF = {"currency": "EUR", "elements": [{"price_components": [
    {"type": "ENERGY", "price": 0.40, "vat": 20, "step_size": 1}, {"type": "FLAT", "price": 1.00, "vat": 20, "step_size": 1}]}]}


class Simulation:
    """`python -m simulator` on the runtime's loop, until stopped (what Ctrl-C does to `make sim`)."""

    def __init__(self, live: LiveRuntime, *argv: str) -> None:
        self.live = live
        self.arguments = parse_arguments(["--url", f"{live.runtime.ws_url}/", "--quiet", *argv])
        self._stop = asyncio.Event()
        self._run: Future[list[SimulatedChargePoint]] | None = None

    def __enter__(self) -> Simulation:
        self._run = asyncio.run_coroutine_threadsafe(run_stations(self.arguments, self._stop), self.live.loop)
        return self

    def __exit__(self, *_: object) -> None:
        self.live.loop.call_soon_threadsafe(self._stop.set)
        assert self._run is not None
        stations = self._run.result(timeout=60)
        assert [error for station in stations for error in station.errors] == []


@pytest.fixture
def simulation(live: LiveRuntime) -> Iterator[Simulation]:
    # What an operator does before `make sim`: a tariff, and each simulated station's own id tag registered.
    assert call_api(live, "PUT", "/tariffs/SIM", TARIFF)[0] == 201
    for number in range(1, len(STATIONS) + 1):
        assert call_api(live, "PUT", f"/id-tags/FLOW-TAG-{number}", {"status": "Accepted", "tariffId": "SIM"})[0] == 201
    with Simulation(
        live, "--stations", "3", "--prefix", "FLOW", "--sessions",
        "--session-seconds", "3600", "--session-pause", "1", "--meter-interval", "2",
    ) as running_simulation:
        yield running_simulation


def test_simulated_stations_charge_and_a_session_is_stopped_from_the_console_and_billed(
    browser: WebDriver, live: LiveRuntime, simulation: Simulation
):
    open_view(browser, live, "/network")
    for station_id in STATIONS:  # all three at once: no id tag is refused for being in another session
        wait_for(browser, lambda b, row=f'[data-station="{station_id}"]': "Online" in text_of(b, row) and "Charging" in text_of(b, row))

    browser.find_element(By.LINK_TEXT, "FLOW002").click()
    session = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "[data-connector] a[href^='#/sessions/']"))
    transaction_id = int(session.get_attribute("href").rsplit("/", 1)[1])
    assert call_api(live, "GET", f"/transactions/{transaction_id}")[1]["idTag"] == "FLOW-TAG-2"
    session.click()
    chart = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "svg.session-chart"))
    wait_for(browser, lambda b: int(b.find_element(By.CSS_SELECTOR, 'svg.session-chart [data-series="energyWh"]').get_attribute("data-points")) >= 2)
    assert chart.find_elements(By.CSS_SELECTOR, '[data-series="powerW"]')

    browser.find_element(By.XPATH, "//button[text()='Stop session']").click()
    confirm(browser, "Stop session")
    assert "RemoteStopTransaction: the station answered Accepted." in notice(browser, "RemoteStopTransaction")
    total = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "[data-total]"), timeout=60)  # the CDR
    assert total.text.endswith("EUR incl. VAT")
    transaction = call_api(live, "GET", f"/transactions/{transaction_id}")[1]
    assert not transaction["active"] and transaction["stopReason"] == "Remote"
    assert "Stopped" in text_of(browser, "main .heading")
