"""The station page as an operator uses it while it refreshes itself every few seconds: starting a session, the
OpenAPI-built command form, the command history page by page, and what it says when it cannot refresh."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.console.conftest import LiveRuntime, call_api, wait_for
from tests.console.pages import notice, notices, open_view, text_of
from tests.console.stations import connect

HISTORY = "[aria-labelledby=history-title]"


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


def test_a_command_sent_from_the_form_built_from_the_openapi_description_reaches_the_station(browser: WebDriver, live: LiveRuntime):
    station = connect(live, "FORM-1")
    live.run(station.boot(connectors=2))
    open_view(browser, live, "/stations/FORM-1")
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, '[data-connector="2"]'))
    browser.find_element(By.NAME, "action").send_keys("ChangeAvailability")  # "Any other action"
    browser.find_element(By.XPATH, "//button[text()='Open form']").click()
    form = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, 'form.command-form[data-action="ChangeAvailability"]'))
    connector = form.find_element(By.NAME, "connectorId")
    connector.clear()
    connector.send_keys("2")
    form.find_element(By.NAME, "type").send_keys("Inoperative")
    form.find_element(By.XPATH, ".//button[text()='Send ChangeAvailability']").click()
    assert "ChangeAvailability: the station answered Accepted." in notice(browser, "ChangeAvailability")
    assert station.availability == [(2, "Inoperative")]

    # A station's CallError in words, said once (the API's message already names its code and description).
    browser.find_element(By.XPATH, "//button[text()='ClearCache']").click()
    form = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, 'form.command-form[data-action="ClearCache"]'))
    form.find_element(By.XPATH, ".//button[text()='Send ClearCache']").click()
    refused = notice(browser, "NotImplemented")
    assert refused.startswith("ClearCache: Charge point FORM-1 answered ClearCache with NotImplemented")
    assert refused.count("NotImplemented") == 1, refused


def test_the_command_history_pages_back_to_the_oldest_command(browser: WebDriver, live: LiveRuntime):
    station = connect(live, "HIST-1")
    live.run(station.boot(connectors=2))
    first = call_api(live, "POST", "/charge-points/HIST-1/commands/ClearCache", {})[1]  # the oldest
    for _ in range(20):
        assert call_api(live, "POST", "/charge-points/HIST-1/commands/ChangeAvailability", {"connectorId": 1, "type": "Operative"})[0] == 200
    open_view(browser, live, "/stations/HIST-1")
    rows = f"{HISTORY} tbody tr"
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, rows)) == 20)
    assert "The 20 newest" in text_of(browser, HISTORY) and "ClearCache" not in text_of(browser, HISTORY)

    browser.find_element(By.CSS_SELECTOR, HISTORY).find_element(By.XPATH, ".//button[text()='Next page →']").click()
    oldest = f'{HISTORY} [data-command="{first["commandId"]}"]'
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, rows)) == 1 and b.find_elements(By.CSS_SELECTOR, oldest))
    assert "historyPage=" in browser.current_url  # shareable
    # The refresh keeps the page shown (a connector's change shows, the history stays on its page).
    live.run(station.status(2, "Unavailable"))
    wait_for(browser, lambda b: "Unavailable" in text_of(b, '[data-connector="2"]'))
    assert len(browser.find_elements(By.CSS_SELECTOR, rows)) == 1 and browser.find_elements(By.CSS_SELECTOR, oldest)
    browser.refresh()  # the view's URL opens the same page
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, rows)) == 1 and b.find_elements(By.CSS_SELECTOR, oldest))

    browser.find_element(By.CSS_SELECTOR, HISTORY).find_element(By.XPATH, ".//button[text()='First page']").click()
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, rows)) == 20)


COUNT_STATION_READS = """
window.stationReads = 0;
const fetchOriginal = window.fetch;
window.fetch = (resource, ...rest) => {
  if (String(resource).endsWith(arguments[0])) window.stationReads += 1;
  return fetchOriginal(resource, ...rest);
};
"""


def test_a_station_page_that_cannot_refresh_says_so_in_one_notice(browser: WebDriver, live: LiveRuntime):
    call_api(live, "PUT", "/charge-points/GONE-1", {"description": "About to be removed"})
    station = connect(live, "GONE-1")
    live.run(station.boot(connectors=1))
    open_view(browser, live, "/stations/GONE-1")
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, '[data-connector="1"]'))
    browser.execute_script(COUNT_STATION_READS, "/charge-points/GONE-1")

    assert call_api(live, "DELETE", "/charge-points/GONE-1")[0] == 204  # every refresh now fails (404)
    assert "Not updated: Unknown charge point GONE-1" in notice(browser, "Not updated")
    reads = browser.execute_script("return window.stationReads")
    wait_for(browser, lambda b: b.execute_script("return window.stationReads") >= reads + 2)  # two refreshes later
    assert len([n for n in notices(browser) if "Not updated" in n.text]) == 1

    call_api(live, "PUT", "/charge-points/GONE-1", {})  # registered again: the page refreshes, the notice goes
    wait_for(browser, lambda b: not [n for n in notices(b) if "Not updated" in n.text])
