"""The admin page in Debian's headless chromium (Selenium + the system chromedriver): log in,
watch an order arrive without a reload, see a screen go offline and get revoked, refused
without a login, a change without its CSRF token refused.

Every wait is on a condition with a generous limit: CI's machine is small and busy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.fixtures.admin import UI_WAIT_S, admin_settings, browser_login, heartbeat
from tests.fixtures.gateway import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

LOCATION = "loc-browser-1"


def _wait(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    return WebDriverWait(driver, UI_WAIT_S, poll_frequency=0.2).until(condition, what)


def _screen_state(driver: Any, device_id: str) -> str | None:
    """The state the screens table shows for a device right now (None: not listed)."""
    rows = driver.find_elements(By.ID, f"screen-{device_id}")
    if not rows:
        return None
    try:
        state: str | None = rows[0].get_attribute("data-state")
    except Exception:  # swapped out by the live refresh between find and read
        return None
    return state


def _click(driver: Any, selector: str) -> None:
    """Click, again if the live refresh swapped the element out just before."""

    def clicked(d: Any) -> bool:
        try:
            d.find_element(By.CSS_SELECTOR, selector).click()
        except StaleElementReferenceException:
            return False
        return True

    _wait(driver, clicked, f"a click on {selector}")


def test_login_then_an_order_arrives_live(admin_gateway: GatewayProcess, browser: Any) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    browser_login(browser, gateway)
    assert browser.find_element(By.CSS_SELECTOR, "nav a.here").text == "Overview"
    assert LOCATION in browser.find_element(By.TAG_NAME, "main").text
    # A mark on this page's window: a reload would wipe it.
    browser.execute_script("window.kdsMark = 'still here';")
    order_id = "live-order-77"
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-order="{order_id}"]')
    payload = {
        "orderId": order_id,
        "channelOrderDisplayId": "DLV-77",
        "items": [{"name": "Fries", "quantity": 2}],
    }
    assert gateway.send_order(LOCATION, payload).status_code == 200
    row = _wait(
        browser,
        seen.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-order="{order_id}"]')),
        "the order's row in the live list",
    )
    assert "DLV-77" in row.text and "order.received" in row.text
    assert browser.execute_script("return window.kdsMark;") == "still here"


def test_a_screen_goes_offline_then_is_revoked(
    make_gateway: Callable[..., GatewayProcess], browser: Any
) -> None:
    gateway = make_gateway(settings={**admin_settings(), "devices": {"offline_after_s": 4.0}})
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION, name="Pass screen")
    heartbeat(gateway, device)
    browser_login(browser, gateway, "/admin/screens")
    _wait(browser, lambda d: _screen_state(d, device.device_id) == "online", "online")
    browser.execute_script("window.kdsMark = 'still here';")
    # Silent past offline_after_s: the live table says so by itself.
    _wait(browser, lambda d: _screen_state(d, device.device_id) == "offline", "offline")
    assert browser.execute_script("return window.kdsMark;") == "still here"

    _click(browser, f"#screen-{device.device_id} button[name=revoke]")
    alert = _wait(browser, seen.alert_is_present(), "the confirm dialog")
    assert "Revoke Pass screen" in alert.text
    alert.accept()
    flash = _wait(
        browser,
        seen.presence_of_element_located((By.CSS_SELECTOR, ".flash.ok")),
        "the revoke's message",
    )
    assert device.device_id in flash.text and "revoked" in flash.text
    _wait(browser, lambda d: _screen_state(d, device.device_id) == "revoked", "revoked")
    answer = gateway.session.get(
        f"{gateway.base_url}/api/v1/events", headers=device.headers, timeout=10
    )
    assert answer.status_code == 401


def test_refused_without_login(admin_gateway: GatewayProcess, browser: Any) -> None:
    for path in ("/admin/", "/admin/screens", "/admin/outbox", "/admin/speed"):
        browser.get(f"{admin_gateway.base_url}{path}")
        _wait(browser, seen.presence_of_element_located((By.ID, "password")), "login form")
        assert "/admin/login" in browser.current_url
        assert not browser.find_elements(By.CSS_SELECTOR, "nav")
    # What the page's script asks for, from this (logged-out) browser: 401, no data.
    status = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/admin/live/screens', {headers: {'X-Admin-Live': '1'}})"
        ".then(r => r.text().then(t => done([r.status, t])));"
    )
    assert status[0] == 401 and "login_required" in status[1]


def test_a_change_without_its_csrf_token_is_refused(
    admin_gateway: GatewayProcess, browser: Any
) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION, name="Fry screen")
    heartbeat(gateway, device)
    browser_login(browser, gateway, "/admin/screens")
    _wait(browser, lambda d: _screen_state(d, device.device_id) == "online", "online")
    # As a forged form would: the same post, without the token (and no confirm dialog).
    browser.execute_script(
        "const form = document.querySelector(arguments[0]);"
        "form.querySelector('input[name=csrf_token]').remove();"
        "delete form.dataset.confirm; form.submit();",
        f"#screen-{device.device_id} form[action$='/revoke']",
    )
    _wait(browser, lambda d: "CSRF" in d.find_element(By.TAG_NAME, "body").text, "refusal")
    body = json.loads(browser.find_element(By.TAG_NAME, "body").text)
    assert body["error"] == "bad_request"
    events = gateway.session.get(
        f"{gateway.base_url}/api/v1/events", headers=device.headers, timeout=10
    )
    assert events.status_code == 200  # still enrolled
