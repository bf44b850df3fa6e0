"""A session's page as an operator uses it: stopping the session from the keyboard while the page refreshes, the
limit that stopped a session, and the CDRs it leads to, downloaded as CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import LiveRuntime, call_api, wait_for
from tests.console.pages import confirm, notice, open_view, text_of
from tests.console.stations import connect, minutes_ago

# 0.40 per kWh and 1.00 a session, 20 % VAT: 5 kWh cost 3.00 excl. VAT, 3.60 incl.
TARIFF = {"currency": "EUR", "elements": [{"price_components": [
    {"type": "ENERGY", "price": 0.40, "vat": 20, "step_size": 1}, {"type": "FLAT", "price": 1.00, "vat": 20, "step_size": 1}]}]}


def test_the_keyboard_stays_on_stop_session_as_the_page_refreshes_and_stops_the_session(browser: WebDriver, live: LiveRuntime):
    call_api(live, "PUT", "/id-tags/FOCUS-DRIVER", {"status": "Accepted"})
    station = connect(live, "FOCUS-1")
    live.run(station.boot(connectors=1))
    transaction_id = live.run(station.start_charging("FOCUS-DRIVER"))
    live.run(station.meter(minutes_ago(1), energy_wh=11_000, power_w=7_400))

    open_view(browser, live, f"/sessions/{transaction_id}")
    stop = wait_for(browser, lambda b: b.find_element(By.XPATH, "//button[text()='Stop session']"))
    values = "[aria-labelledby=chart-title] details"
    browser.find_element(By.CSS_SELECTOR, f"{values} summary").click()  # the values as a table
    browser.execute_script("arguments[0].focus()", stop)
    live.run(station.meter(datetime.now(UTC), energy_wh=12_000, power_w=7_400))
    wait_for(browser, lambda b: text_of(b, "[data-energy]") == "2.00 kWh")  # the summary was redrawn
    focused = browser.switch_to.active_element
    assert focused.tag_name == "button" and focused.text == "Stop session"
    wait_for(browser, lambda b: "These 2 points" in text_of(b, f"{values} summary"))  # the chart was redrawn too
    assert browser.find_element(By.CSS_SELECTOR, values).get_attribute("open") is not None  # and its table stays open

    focused.send_keys(Keys.ENTER)  # the keyboard alone
    confirm(browser, "Stop session")
    assert "RemoteStopTransaction: the station answered Accepted." in notice(browser, "RemoteStopTransaction")
    wait_for(browser, lambda b: "Stopped" in text_of(b, "main .heading") and not b.find_elements(By.XPATH, "//button[text()='Stop session']"))
    transaction = call_api(live, "GET", f"/transactions/{transaction_id}")[1]
    assert not transaction["active"] and transaction["stopReason"] == "Remote"


def test_the_session_page_says_which_limit_stopped_the_session(browser: WebDriver, live: LiveRuntime):
    call_api(live, "PUT", "/id-tags/LIMIT-DRIVER", {"status": "Accepted", "limits": {"maxEnergyWh": 1000}})
    station = connect(live, "LIMIT-1")
    live.run(station.boot(connectors=1))
    transaction_id = live.run(station.start_charging("LIMIT-DRIVER"))
    open_view(browser, live, f"/sessions/{transaction_id}")
    wait_for(browser, lambda b: text_of(b, "[data-limits]") == "1.00 kWh")

    live.run(station.meter(datetime.now(UTC), energy_wh=11_500, power_w=11_000))  # 1.5 kWh: past the limit
    reached = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "[data-limit-reached]"), timeout=40)
    assert reached.get_attribute("data-limit-reached") == "energy"
    assert reached.text == "on reaching its energy limit"
    assert "Stopped" in text_of(browser, "main .heading")


def test_cdrs_download_as_csv(browser: WebDriver, live: LiveRuntime, tmp_path: Path):
    assert call_api(live, "PUT", "/tariffs/CSV", TARIFF)[0] == 201
    call_api(live, "PUT", "/charge-points/CSV-1", {"tariffId": "CSV"})
    call_api(live, "PUT", "/id-tags/CSV-DRIVER", {"status": "Accepted"})
    station = connect(live, "CSV-1")
    live.run(station.boot(connectors=1))
    started = minutes_ago(40)
    transaction_id = live.run(station.start_charging("CSV-DRIVER", started_at=started))
    live.run(station.meter(started + timedelta(minutes=30), energy_wh=15_000, power_w=10_000))
    live.run(station.stop_charging(at=started + timedelta(minutes=30)))
    wait_for(browser, lambda _: call_api(live, "GET", f"/transactions/{transaction_id}/cdr")[0] == 200, timeout=30)

    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_view(browser, live, "/cdrs?chargePointId=CSV-1")
    wait_for(browser, lambda b: "3.60 EUR" in text_of(b, "main table"))
    browser.find_element(By.XPATH, "//button[text()='Download CSV']").click()
    assert "1 CDRs downloaded as CSV." in notice(browser, "downloaded")
    downloaded = wait_for(browser, lambda _: next(iter(tmp_path.glob("cdrs-*.csv")), None))
    (row,) = csv.DictReader(downloaded.read_text().splitlines())
    assert (row["session_id"], row["charge_point"], row["currency"]) == (str(transaction_id), "CSV-1", "EUR")
    assert Decimal(row["total_energy_kwh"]) == 5 and Decimal(row["total_cost_incl_vat"]) == Decimal("3.60")
    assert Decimal(row["total_cost_excl_vat"]) == Decimal("3.00") and row["credit"] == "false"
