"""The operator console's main paths in headless Chromium, against the local runtime and stations talking OCPP 1.6."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta

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
    wait_for(browser, lambda b: (count(b, "connected"), count(b, "charging")) == ("1", "0"))

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


def network_counts_from_every_page(live: LiveRuntime) -> dict[str, int]:
    """The network counted the long way: every page of GET /charge-points, each station judged as the page's filter
    judges it (an offline station is neither charging nor faulted)."""
    tally = {"connected": 0, "charging": 0, "faulted": 0, "offline": 0}
    token = None
    while True:
        page = call_api(live, "GET", "/charge-points?limit=100" + (f"&nextToken={urllib.parse.quote(token)}" if token else ""))[1]
        for station in page["items"]:
            connectors = station["connectors"]
            tally["connected" if station["connected"] else "offline"] += 1
            tally["charging"] += station["connected"] and any(c["status"] == "Charging" for c in connectors)
            tally["faulted"] += station["connected"] and any(c["status"] == "Faulted" or c["errorCode"] != "NoError" for c in connectors)
        token = page["nextToken"]
        if token is None:
            return tally


def shown_counts(browser: WebDriver) -> dict[str, int]:
    return {name: int(count(browser, name)) for name in ("connected", "charging", "faulted", "offline")}


def test_the_network_counts_cover_every_station_not_only_the_page_shown(browser: WebDriver, live: LiveRuntime):
    # More stations than a page holds: 105 registered, never connected, whose ids come first in the listing.
    for n in range(105):
        assert call_api(live, "PUT", f"/charge-points/BULK-{n:03d}", {})[0] == 201
    faulty = connect(live, "ZZ-FAULT")  # listed after them all, on the second page
    live.run(faulty.boot(connectors=1))
    live.run(faulty.status(1, "Faulted", "GroundFailure"))

    open_view(browser, live, "/network")
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '[data-station="BULK-099"]'))
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-station="ZZ-FAULT"]')  # not on the page shown
    expected = network_counts_from_every_page(live)
    assert expected["faulted"] >= 1 and expected["offline"] >= 105
    wait_for(browser, lambda b: shown_counts(b) == expected)  # the page's counts are the network's (at most 3 s old)
    total = sum(expected[name] for name in ("connected", "offline"))
    assert text_of(browser, ".counts [data-total]").startswith(f"{total} stations in the network, counted at")
    assert "Counted on this page" not in text_of(browser, ".counts")

    live.run(faulty.status(1, "Available"))  # the fault cleared: the counts follow by themselves
    wait_for(browser, lambda b: shown_counts(b) == expected | {"faulted": expected["faulted"] - 1})


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

    # Priority, default limits and notifications: set in the form, kept by a later change (PUT replaces the tag).
    wait_for(browser, lambda b: "Blocked" in text_of(b, '[data-id-tag="CONSOLE-TAG"]'))
    browser.find_element(By.CSS_SELECTOR, '[data-id-tag="CONSOLE-TAG"]').find_element(By.XPATH, ".//button[text()='Edit']").click()
    browser.find_element(By.NAME, "priority").send_keys("7")
    browser.find_element(By.NAME, "notifyAtEnergyWh").send_keys("5000, 10000")
    browser.find_element(By.NAME, "maxCostAmount").send_keys("30.00")
    browser.find_element(By.NAME, "maxCostCurrency").send_keys("EUR")
    browser.find_element(By.NAME, "maxDurationMinutes").send_keys("90")
    browser.find_element(By.XPATH, "//button[text()='Save id tag']").click()
    notice(browser, "saved: Blocked")
    browser.find_element(By.XPATH, "//button[text()='Unblock']").click()
    notice(browser, "unblocked")
    tag = call_api(live, "GET", "/id-tags/CONSOLE-TAG")[1]
    assert (tag["status"], tag["priority"], tag["notifyAtEnergyWh"]) == ("Accepted", 7, [5000, 10000])
    assert tag["limits"] == {"maxCost": {"amount": "30.00", "currency": "EUR"}, "maxDurationSeconds": 5400}
    wait_for(browser, lambda b: "30.00 EUR · 1 h 30 min" in text_of(b, '[data-id-tag="CONSOLE-TAG"]'))


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
    # Each connector's QR code, an image the browser decoded (the SVG route).
    qr = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, '[data-qr="2"] img'))
    wait_for(browser, lambda b: b.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", qr))
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
    call_api(live, "PUT", "/id-tags/CHART-DRIVER", {"status": "Accepted", "limits": {"maxEnergyWh": 50000}})
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
    assert text_of(browser, "[data-limits]") == "50.00 kWh"  # the id tag's, bound at the start
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


def noon_zone() -> tuple[str, datetime]:
    """A fixed-offset zone where it is about noon now, and now there: a reservation's expiry an hour ahead stays on
    the station's day whenever the test runs (Etc/GMT signs are inverted: Etc/GMT-2 is UTC+2)."""
    now = datetime.now(UTC)
    offset = 12 - now.hour
    zone = "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
    return zone, now + timedelta(hours=offset)


def set_value(browser: WebDriver, name: str, value: str) -> None:
    """A datetime-local input's value (typing one depends on the browser's locale)."""
    element = browser.find_element(By.NAME, name)
    browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", element, value)


def test_a_reservation_made_and_cancelled_from_the_console_holds_and_frees_the_connector(browser: WebDriver, live: LiveRuntime):
    zone, local_now = noon_zone()
    call_api(live, "PUT", "/charge-points/RES-1", {"timeZone": zone})
    station = connect(live, "RES-1")
    live.run(station.boot(connectors=2))

    open_view(browser, live, "/reservations")
    wait_for(browser, lambda b: "No reservation is live" in text_of(b, "main .empty"))
    browser.find_element(By.NAME, "chargePointId").send_keys("RES-1", Keys.TAB)
    wait_for(browser, lambda b: f"Expiry ({zone})" in text_of(b, "form[aria-labelledby=reserve-title]"))  # typed in the station's zone
    browser.find_element(By.NAME, "connectorId").clear()
    browser.find_element(By.NAME, "connectorId").send_keys("2")
    browser.find_element(By.NAME, "idTag").send_keys("RES-DRIVER")
    set_value(browser, "expiryDate", (local_now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    browser.find_element(By.NAME, "maxEnergyWh").send_keys("20000")
    browser.find_element(By.XPATH, "//button[text()='Reserve']").click()
    made = notice(browser, "accepted by RES-1")
    assert "connector 2 held for RES-DRIVER until" in made and zone in made

    status, page = call_api(live, "GET", "/reservations?chargePointId=RES-1")
    reservation = page["items"][0]
    assert (reservation["status"], reservation["connectorId"], reservation["limits"]) == ("Accepted", 2, {"maxEnergyWh": 20000})
    expiry = datetime.fromisoformat(reservation["expiryDate"].replace("Z", "+00:00"))
    assert abs(expiry - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=2)  # the zone's time, read as such
    row = f'[data-reservation="{reservation["reservationId"]}"]'
    wait_for(browser, lambda b: "Accepted" in text_of(b, row) and "20.00 kWh" in text_of(b, row))
    screenshot(browser, "reservations")

    browser.find_element(By.XPATH, f"//button[text()='Cancel {reservation['reservationId']}']").click()
    dialog = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "dialog[open]"))
    dialog.find_element(By.XPATH, ".//button[text()='Cancel reservation']").click()
    assert "cancelled: RES-1 no longer holds it" in notice(browser, "no longer holds")
    assert call_api(live, "GET", f"/reservations/{reservation['reservationId']}")[1]["status"] == "Cancelled"
    wait_for(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, row))  # the live list no longer shows it

    # A refusal is said in the API's words (here: the past expiry, nothing sent to the station).
    set_value(browser, "expiryDate", (local_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    browser.find_element(By.XPATH, "//button[text()='Reserve']").click()
    assert "expiryDate" in notice(browser, "expiryDate")


def test_the_site_page_shows_each_sessions_allocation_as_a_bar(browser: WebDriver, live: LiveRuntime):
    for station_id in ("SITE-1", "SITE-2"):
        call_api(live, "PUT", f"/charge-points/{station_id}", {})
    call_api(live, "PUT", "/id-tags/SITE-DRIVER", {"status": "Accepted", "priority": 5})
    call_api(live, "PUT", "/id-tags/SITE-OTHER", {"status": "Accepted"})
    status, _ = call_api(live, "PUT", "/sites/DEPOT", {"name": "Depot", "maxCurrentA": 32, "phases": 3, "voltageV": 230, "chargePoints": ["SITE-1", "SITE-2"]})
    assert status == 201
    first, second = connect(live, "SITE-1"), connect(live, "SITE-2")
    live.run(first.boot(connectors=1))
    live.run(second.boot(connectors=1))
    live.run(first.start_charging("SITE-DRIVER"))
    live.run(second.start_charging("SITE-OTHER"))
    live.run(first.meter(minutes_ago(0), energy_wh=10_500, power_w=6_900, current_a=10))  # Current.Import, per phase

    open_view(browser, live, "/sites")
    wait_for(browser, lambda b: "Depot" in text_of(b, '[data-site="DEPOT"]'))
    browser.find_element(By.LINK_TEXT, "DEPOT").click()
    bars = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "svg.bar"))
    assert len(bars) == 2
    allocated = {row.get_attribute("data-allocation"): float(row.find_element(By.CSS_SELECTOR, "svg.bar").get_attribute("data-allocated"))
                 for row in browser.find_elements(By.CSS_SELECTOR, "[data-allocation]")}
    assert sum(allocated.values()) <= 32 and allocated["SITE-1/1"] >= allocated["SITE-2/1"] >= 6  # priority 5 first
    # The current SITE-1 measured: a mark on its bar and a figure; SITE-2 sent none.
    measured = browser.find_element(By.CSS_SELECTOR, '[data-allocation="SITE-1/1"] svg.bar')
    assert float(measured.get_attribute("data-measured")) == 10 and measured.find_elements(By.CSS_SELECTOR, "rect.measured")
    assert "10 A measured" in measured.get_attribute("aria-label")
    unmeasured = browser.find_element(By.CSS_SELECTOR, '[data-allocation="SITE-2/1"] svg.bar')
    assert unmeasured.get_attribute("data-measured") == "" and not unmeasured.find_elements(By.CSS_SELECTOR, "rect.measured")
    assert "32 A per phase" in text_of(browser, "[aria-labelledby=capacity-title]")
    screenshot(browser, "site")

    # The definition is sent whole; the API's message comes back in words.
    maximum = browser.find_element(By.NAME, "maxCurrentA")
    maximum.clear()
    maximum.send_keys("40")
    browser.find_element(By.XPATH, "//button[text()='Save site']").click()
    assert "Site DEPOT saved (version 2)." in notice(browser, "Site DEPOT saved")
    wait_for(browser, lambda b: "40 A per phase" in text_of(b, "[aria-labelledby=capacity-title]"))
    circuits = browser.find_element(By.NAME, "circuits")
    circuits.clear()
    circuits.send_keys('[{"circuitId": "C1", "maxCurrentA": 16, "chargePoints": ["ELSEWHERE"]}]')
    browser.find_element(By.XPATH, "//button[text()='Save site']").click()
    assert "ELSEWHERE" in notice(browser, "ELSEWHERE")


def test_the_tariff_editor_prices_a_sample_session_as_the_operator_types(browser: WebDriver, live: LiveRuntime):
    open_view(browser, live, "/tariffs/PREVIEW-1")
    # The template: 0.30/kWh + 1.00 flat, 20 % VAT; the sample: 20 kWh -> (6.00 + 1.00) * 1.2 = 8.40.
    total = '[data-preview-total]'
    wait_for(browser, lambda b: text_of(b, total) == "8.40 EUR")
    energy = browser.find_element(By.NAME, "sampleEnergyKwh")
    energy.clear()
    energy.send_keys("10")
    wait_for(browser, lambda b: text_of(b, total) == "4.80 EUR")
    editor = browser.find_element(By.NAME, "tariff")
    editor.clear()
    editor.send_keys(json.dumps({"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.5, "vat": 20, "step_size": 1}]}]}))
    wait_for(browser, lambda b: text_of(b, total) == "6.00 EUR")
    screenshot(browser, "tariff-preview")
    editor.send_keys(Keys.END, Keys.BACKSPACE, ', "currency": "EURO"}')  # the last key wins
    wait_for(browser, lambda b: "tariff.currency" in text_of(b, ".sample-result [role=alert]"))  # the API's 400, in words
    assert call_api(live, "GET", "/tariffs/PREVIEW-1")[0] == 404  # a preview stores nothing
