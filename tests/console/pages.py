"""What the browser tests do on a page: open a view, read what it shows, wait for what an action said."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.console.conftest import LiveRuntime, wait_for


def open_view(browser: WebDriver, live: LiveRuntime, view: str) -> None:
    browser.get(f"{live.console_url}#{view}")


def text_of(browser: WebDriver, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


def notice(browser: WebDriver, words: str) -> str:
    """The confirmation (or error) the page shows after an action."""
    return wait_for(browser, lambda b: next((n.text for n in notices(b) if words in n.text), None))


def notices(browser: WebDriver) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#notices .notice")


def confirm(browser: WebDriver, label: str) -> None:
    """Answers the page's confirmation dialog with its button `label`."""
    dialog = wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "dialog[open]"))
    dialog.find_element(By.XPATH, f".//button[text()='{label}']").click()
