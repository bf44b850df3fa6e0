"""The station page as an operator uses it while it refreshes itself every few seconds."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import LiveRuntime, call_api, wait_for
from tests.console.pages import notice, open_view, text_of
from tests.console.stations import connect


def test_an_id_tag_typed_for_a_connector_survives_the_refresh_and_starts_a_session(browser: WebDriver, live: LiveRuntime):
    call_api(live, "PUT", "/id-tags/TYPED-DRIVER", {"status": "Accepted"})
    station = connect(live, "TYPED-1")
    live.run(station.boot(connectors=2))
    open_view(browser, live, "/stations/TYPED-1")
    row = '[data-connector="1"]'
    field = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, f"{row} input[name=idTag]"))
    field.click()
    field.send_keys("TYPED-DRIVER")

    # Meanwhile the driver plugs in: the page shows the connector Preparing, its row redrawn by a refresh.
    live.run(station.status(1, "Preparing"))
    wait_for(browser, lambda b: "Preparing" in text_of(b, row))
    field = browser.find_element(By.CSS_SELECTOR, f"{row} input[name=idTag]")
    assert field.get_attribute("value") == "TYPED-DRIVER"  # what was typed is still there
    assert browser.switch_to.active_element == field  # and the keyboard is still in it

    browser.find_element(By.CSS_SELECTOR, row).find_element(By.XPATH, ".//button[text()='Start']").click()
    assert "RemoteStartTransaction: the station answered Accepted." in notice(browser, "RemoteStartTransaction")
    wait_for(browser, lambda b: "Charging" in text_of(b, row) and "TYPED-DRIVER" in text_of(b, row))
    assert station.transaction_id is not None  # the station started it
    status, transaction = call_api(live, "GET", f"/transactions/{station.transaction_id}")
    assert status == 200 and transaction["idTag"] == "TYPED-DRIVER" and transaction["connectorId"] == 1
