"""The operator console's main paths in headless Chromium, against the local runtime and stations talking OCPP 1.6."""

from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import LAPTOP, LiveRuntime, call_api, screenshot, wait_for
from tests.console.stations import connect, minutes_ago


def open_view(browser: WebDriver, live: LiveRuntime, view: str) -> None:
    browser.get(f"{live.console_url}#{view}")


def text_of(browser: WebDriver, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


def notice(browser: WebDriver, words: str) -> str:
    """The confirmation (or error) the page shows after an action."""
    return wait_for(browser, lambda b: next((n.text for n in b.find_elements(By.CSS_SELECTOR, "#notices .notice") if words in n.text), None))


def count(browser: WebDriver, name: str) -> str:
    return text_of(browser, f'[data-count="{name}"] dd')


def test_the_network_page_shows_a_station_coming_online_and_starting_to_charge(browser: WebDriver, live: LiveRuntime):
    open_view(browser, live, "/network")
    # Nothing connected yet: the page says how to point a station at the CSMS.
    empty = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, ".empty"))
    assert "No station has connected yet" in empty.text and "/ocpp/{chargePointId}" in empty.text
    screenshot(browser, "network-empty")

    station = connect(live, "NET-1")
    live.run(station.boot())
    row = '[data-station="NET-1"]'
    wait_for(browser, lambda b: "Online" in text_of(b, row) and "#1 Available" in text_of(b, row))
    assert count(browser, "connected") == "1" and count(browser, "charging") == "0"

    call_api(live, "PUT", "/id-tags/NET-DRIVER", {"status": "Accepted"})
    live.run(station.start_charging("NET-DRIVER"))
    wait_for(browser, lambda b: "#1 Charging" in text_of(b, row))  # refreshed by itself, nobody reloaded
    wait_for(browser, lambda b: count(b, "charging") == "1")
    screenshot(browser, "network")

    # The filters narrow the list, and the view's URL keeps them (shareable).
    status = browser.find_element(By.NAME, "status")
    status.send_keys("Offline")
    wait_for(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, row))
    assert "status=offline" in browser.current_url
    browser.find_element(By.XPATH, "//button[text()='Clear the filters']").click()
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, row))


def test_an_id_tag_created_in_the_console_authorizes_at_the_station(browser: WebDriver, live: LiveRuntime):
    station = connect(live, "TAG-1")
    live.run(station.boot(connectors=1))
    assert live.run(station.authorize("CONSOLE-TAG")) == "Invalid"

    open_view(browser, live, "/id-tags")
    field = wait_for(browser, lambda b: b.find_element(By.NAME, "idTag"))
    field.send_keys("CONSOLE-TAG", Keys.ENTER)  # the keyboard alone: Enter submits the form
    assert "Id tag CONSOLE-TAG saved: Accepted." in notice(browser, "CONSOLE-TAG")
    wait_for(browser, lambda b: "Accepted" in text_of(b, '[data-id-tag="CONSOLE-TAG"]'))
    assert live.run(station.authorize("CONSOLE-TAG")) == "Accepted"
    screenshot(browser, "id-tags")

    browser.find_element(By.XPATH, "//button[text()='Block CONSOLE-TAG']").click()
    assert "blocked" in notice(browser, "blocked")
    assert live.run(station.authorize("CONSOLE-TAG")) == "Blocked"


def test_a_remote_stop_from_the_station_page_stops_the_session(browser: WebDriver, live: LiveRuntime):
    call_api(live, "PUT", "/charge-points/STOP-1", {"description": "Car park, level -1"})
    call_api(live, "PUT", "/id-tags/STOP-DRIVER", {"status": "Accepted"})
    station = connect(live, "STOP-1")
    live.run(station.boot())
    transaction_id = live.run(station.start_charging("STOP-DRIVER"))
    live.run(station.meter(minutes_ago(0), energy_wh=12_500, power_w=7_400))

    open_view(browser, live, "/stations/STOP-1")
    connector = '[data-connector="1"]'
    wait_for(browser, lambda b: f"Session {transaction_id}" in text_of(b, connector))
    assert text_of(browser, f"{connector} [data-power]") == "7.4 kW"
    assert text_of(browser, f"{connector} [data-energy]") == "2.50 kWh"

    # Its registration from the page: times then follow the station's zone, named.
    save = "//button[text()='Save registration']"
    browser.find_element(By.NAME, "timeZone").send_keys("Europe/Paris")
    browser.find_element(By.XPATH, save).click()
    assert "Registration of STOP-1 saved." in notice(browser, "Registration")
    wait_for(browser, lambda b: "Europe/Paris" in text_of(b, f"{connector} time"))
    browser.find_element(By.NAME, "timeZone").clear()
    browser.find_element(By.NAME, "timeZone").send_keys("Mars/Olympus_Mons")
    browser.find_element(By.XPATH, save).click()
    assert "unknown time zone 'Mars/Olympus_Mons'" in notice(browser, "Mars")  # the API's words, not a stack trace
    screenshot(browser, "station")

    browser.find_element(By.XPATH, "//button[text()='Stop connector 1']").click()
    dialog = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "dialog[open]"))
    dialog.find_element(By.XPATH, ".//button[text()='Stop session']").click()
    assert "RemoteStopTransaction: the station answered Accepted." in notice(browser, "RemoteStopTransaction")
    wait_for(browser, lambda b: "Available" in text_of(b, connector) and "Session" not in text_of(b, connector))
    status, transaction = call_api(live, "GET", f"/transactions/{transaction_id}")
    assert status == 200 and not transaction["active"] and transaction["stopReason"] == "Remote"
    wait_for(browser, lambda b: "RemoteStopTransaction" in text_of(b, "[aria-labelledby=history-title]"))


def test_the_session_page_charts_the_sessions_meter_values_and_shows_its_cdr(browser: WebDriver, live: LiveRuntime):
    tariff = {"currency": "EUR", "elements": [{"price_components": [
        {"type": "ENERGY", "price": 0.40, "vat": 20, "step_size": 1}, {"type": "FLAT", "price": 1.00, "vat": 20, "step_size": 1}]}]}
    assert call_api(live, "PUT", "/tariffs/CHART", tariff)[0] == 201
    call_api(live, "PUT", "/charge-points/CHART-1", {"tariffId": "CHART"})
    call_api(live, "PUT", "/id-tags/CHART-DRIVER", {"status": "Accepted"})
    station = connect(live, "CHART-1")
    live.run(station.boot(connectors=1))
    started = minutes_ago(30)
    transaction_id = live.run(station.start_charging("CHART-DRIVER", started_at=started))
    readings = [(10, 12_000, 11_000, 40), (20, 14_000, 9_000, 60), (30, 15_000, 5_000, 80)]  # minutes, Wh, W, SoC %
    for minute, energy_wh, power_w, soc in readings:
        live.run(station.meter(started + timedelta(minutes=minute), energy_wh=energy_wh, power_w=power_w, soc=soc))
    live.run(station.stop_charging(at=started + timedelta(minutes=30)))

    open_view(browser, live, f"/sessions/{transaction_id}")
    chart = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "svg.session-chart"))
    power = chart.find_element(By.CSS_SELECTOR, '[data-series="powerW"]')
    energy = chart.find_element(By.CSS_SELECTOR, '[data-series="energyWh"]')
    soc = chart.find_element(By.CSS_SELECTOR, '[data-series="soc"]')
    assert power.get_attribute("data-points") == "3" and soc.get_attribute("data-points") == "3"
    assert energy.get_attribute("data-points") == "4"  # the start (meterStart) and the three readings
    tooltips = [title.get_attribute("textContent") for title in chart.find_elements(By.CSS_SELECTOR, "circle title")]
    assert any(tip.endswith(": 11 kW") for tip in tooltips) and any(tip.endswith(": 5 kWh") for tip in tooltips)
    assert any(tip.endswith(": 80 %") for tip in tooltips)
    # The CDR, priced with the station's tariff: 5 kWh at 0.40 + 1.00 flat = 3.00 excl. VAT, 3.60 incl. 20 %.
    total = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "[data-total]"), timeout=30)
    assert total.text.startswith("3.60 EUR"), total.text
    screenshot(browser, "session")

    open_view(browser, live, "/sessions")
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, f'[data-transaction="{transaction_id}"]'))
    screenshot(browser, "sessions")
    open_view(browser, live, "/cdrs")
    wait_for(browser, lambda b: "3.60 EUR" in text_of(b, "main table"))
    screenshot(browser, "cdrs")
    open_view(browser, live, "/tariffs/CHART")
    wait_for(browser, lambda b: "ENERGY: 0.40 EUR per kWh" in text_of(b, ".preview"))
    screenshot(browser, "tariff")


def test_pages_fit_a_tablet_and_an_unknown_page_says_so(browser: WebDriver, live: LiveRuntime):
    browser.set_window_size(820, 1180)
    try:
        for view in ("/network", "/sessions", "/id-tags", "/cdrs", "/tariffs"):
            open_view(browser, live, view)
            wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "main h1"))
            assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), view
    finally:
        browser.set_window_size(*LAPTOP)
    open_view(browser, live, "/sessions/999999")
    message = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "main [role=alert]"))
    assert message.text == "Unknown transaction 999999"
