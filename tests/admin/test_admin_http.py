"""The admin page over plain HTTP against a real gateway: switched off without a password,
refused without a login, to a device token, and to a change without the CSRF token; the
outbox's "retry now"; raw bodies shown escaped; the speed CSV equals the device API's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.fixtures.admin import (
    ADMIN_PASSWORD,
    admin_settings,
    csrf_token,
    heartbeat,
    login,
)
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.storage_faults import Locked

LOCATION = "loc-admin-1"


def test_disabled_without_a_password_hash(make_gateway: Callable[..., GatewayProcess]) -> None:
    gateway = make_gateway()
    for path in ("/admin/", "/admin/login", "/admin/screens"):
        answer = requests.get(f"{gateway.base_url}{path}", timeout=10, allow_redirects=False)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "admin_disabled"
        assert "password_hash" in answer.json()["detail"]
    # Nothing was generated or kept for a page that is off.
    rows = gateway.db().read().execute("SELECT name FROM cursors WHERE name LIKE 'admin.%'")
    assert rows.fetchall() == []


def test_refused_without_login_and_to_a_device_token(admin_gateway: GatewayProcess) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION)
    base = gateway.base_url
    for headers in ({}, device.headers):
        page = requests.get(
            f"{base}/admin/screens", headers=headers, timeout=10, allow_redirects=False
        )
        assert page.status_code == 302
        assert page.headers["Location"].startswith("/admin/login")
        live = requests.get(
            f"{base}/admin/live/screens", timeout=10, headers={**headers, "X-Admin-Live": "1"}
        )
        assert live.status_code == 401
        assert live.json()["error"] == "login_required"
        assert device.device_id not in live.text
    # A change with a valid CSRF token (from the public login form) but no login.
    anonymous = requests.Session()
    token = csrf_token(anonymous.get(f"{base}/admin/login", timeout=10).text)
    answer = anonymous.post(
        f"{base}/admin/screens/{device.device_id}/revoke",
        data={"csrf_token": token},
        headers=device.headers,
        timeout=10,
    )
    assert answer.status_code == 401
    assert gateway.events(device)["events"] is not None  # the screen still works


def test_wrong_passwords_refused_then_held_off(admin_gateway: GatewayProcess) -> None:
    web = requests.Session()
    page = web.get(f"{admin_gateway.base_url}/admin/login", timeout=10)

    def attempt(password: str) -> requests.Response:
        return web.post(
            f"{admin_gateway.base_url}/admin/login",
            data={"password": password, "csrf_token": csrf_token(page.text)},
            timeout=10,
            allow_redirects=False,
        )

    for _ in range(5):  # [enrollment] free_attempts
        answer = attempt(ADMIN_PASSWORD + "x")
        assert answer.status_code == 401
        assert "Wrong password" in answer.text
    held = attempt(ADMIN_PASSWORD)  # even the right one, for a while
    assert held.status_code == 429
    assert int(held.headers["Retry-After"]) > 0 and "Too many wrong passwords" in held.text
    assert (
        web.get(f"{admin_gateway.base_url}/admin/", timeout=10, allow_redirects=False).status_code
        == 302
    )


def test_session_cookie_and_every_worker_accepts_it(admin_gateway: GatewayProcess) -> None:
    web = requests.Session()
    page = web.get(f"{admin_gateway.base_url}/admin/login", timeout=10)
    cookie = page.headers["Set-Cookie"]
    for part in ("kds_admin=", "HttpOnly", "SameSite=Strict", "Path=/admin"):
        assert part in cookie
    assert "Secure" not in cookie  # plain HTTP here: a Secure cookie would never come back
    web = login(admin_gateway)
    # Two gunicorn workers, each with its own app: both read the same cookie (a key shared
    # through the database), so every request of the session is let in.
    for _ in range(16):
        fresh = requests.Session()
        fresh.cookies.update(web.cookies)
        answer = fresh.get(f"{admin_gateway.base_url}/admin/", timeout=10, allow_redirects=False)
        assert answer.status_code == 200
    # Logging out (a change: it needs the token too) ends the session.
    page = web.get(f"{admin_gateway.base_url}/admin/", timeout=10).text
    out = web.post(
        f"{admin_gateway.base_url}/admin/logout",
        timeout=10,
        allow_redirects=False,
        data={"csrf_token": csrf_token(page)},
    )
    assert out.status_code == 302
    again = web.get(f"{admin_gateway.base_url}/admin/", timeout=10, allow_redirects=False)
    assert again.status_code == 302
    keys = (
        admin_gateway.db()
        .read()
        .execute("SELECT COUNT(*) FROM cursors WHERE name LIKE 'admin.session_key.%'")
        .fetchone()[0]
    )
    assert keys == 4


def test_change_without_csrf_token_refused(admin_gateway: GatewayProcess) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION)
    web = login(gateway)
    url = f"{gateway.base_url}/admin/screens/{device.device_id}/revoke"
    for data in ({}, {"csrf_token": "forged"}):
        answer = web.post(url, data=data, timeout=10)
        assert answer.status_code == 400
        assert "CSRF" in answer.json()["detail"]
    assert gateway.events(device)["events"] is not None  # not revoked
    token = csrf_token(web.get(f"{gateway.base_url}/admin/screens", timeout=10).text)
    assert web.post(url, data={"csrf_token": token}, timeout=10).status_code == 200
    gone = gateway.session.get(
        f"{gateway.base_url}/api/v1/events", headers=device.headers, timeout=10
    )
    assert gone.status_code == 401


def test_screens_show_heartbeats(admin_gateway: GatewayProcess) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION, name="Grill screen")
    heartbeat(gateway, device, link="mqtt", bumps_waiting=3, cpu_temp_c=61.0)
    page = login(gateway).get(f"{gateway.base_url}/admin/screens", timeout=10).text
    row = page[page.index(f'id="screen-{device.device_id}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-state="online"' in row
    for shown in ("Grill screen", "mqtt", ">3<", "61 °C", "synced", "0.1.0"):
        assert shown in row, shown


def test_outbox_retry_now(admin_gateway: GatewayProcess) -> None:
    gateway = admin_gateway
    now = time.time()
    with gateway.db().write() as conn:
        conn.execute(
            "INSERT INTO outbox (location_id, order_id, status, state, attempts, next_at,"
            " created, done, last_error) VALUES (?, ?, ?, 'rejected', 1, ?, ?, ?, ?)",
            (LOCATION, "o-refused", 60, now - 100, now - 100, now - 90, "400 bad status"),
        )
    web = login(gateway)
    page = web.get(f"{gateway.base_url}/admin/outbox", timeout=10).text
    assert "o-refused" in page and "400 bad status" in page
    row_id = gateway.outbox_rows()[-1]["id"]
    answer = web.post(
        f"{gateway.base_url}/admin/outbox/{row_id}/retry",
        data={"csrf_token": csrf_token(page)},
        timeout=10,
    )
    assert answer.status_code == 200
    assert "is due now" in answer.text
    row = gateway.outbox_rows()[-1]
    assert row["state"] == "pending"
    assert row["next_at"] >= now and row["created"] >= now and row["done"] is None
    # A sent row cannot be retried.
    with gateway.db().write() as conn:
        conn.execute("UPDATE outbox SET state = 'sent' WHERE id = ?", (row_id,))
    answer = web.post(
        f"{gateway.base_url}/admin/outbox/{row_id}/retry",
        data={"csrf_token": csrf_token(page)},
        timeout=10,
    )
    assert "is not waiting or failed" in answer.text
    assert gateway.outbox_rows()[-1]["state"] == "sent"


def test_rejected_body_shown_escaped(admin_gateway: GatewayProcess) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    body = b'{"orderId": "x", "items": "<script>alert(1)</script>"'  # not JSON: refused
    assert gateway.post_webhook(f"/deliverect/{LOCATION}/orders", body).status_code == 400
    web = login(gateway)
    listing = web.get(f"{gateway.base_url}/admin/webhooks", timeout=10).text
    row_id = gateway.journal().rejected(1)[0]["id"]
    assert f"/admin/kept/rejected/{row_id}" in listing
    shown = web.get(f"{gateway.base_url}/admin/kept/rejected/{row_id}", timeout=10)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "<script>alert" not in shown.text
    assert "script-src 'self'" in shown.headers["Content-Security-Policy"]
    raw = web.get(f"{gateway.base_url}/admin/kept/rejected/{row_id}?download=1", timeout=10)
    assert raw.content == body
    assert raw.headers["Content-Disposition"].startswith("attachment")


def test_speed_csv_equals_the_device_report(admin_gateway: GatewayProcess) -> None:
    gateway = admin_gateway
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION)
    for n in range(3):
        order = {"orderId": f"speed-{n}", "items": [{"name": "Fries", "quantity": 1}]}
        assert gateway.send_order(LOCATION, order).status_code == 200
    for n in range(2):
        assert gateway.post_status(device, f"speed-{n}", 70).status_code == 200
    web = login(gateway)
    for by in ("hour", "channel", "location"):
        ours = web.get(
            f"{gateway.base_url}/admin/speed.csv",
            params={"location": LOCATION, "by": by},
            timeout=10,
        )
        assert ours.status_code == 200
        assert ours.headers["Content-Type"].startswith("text/csv")
        theirs = gateway.session.get(
            f"{gateway.base_url}/api/v1/report",
            params={"by": by, "format": "csv"},
            headers=device.headers,
            timeout=10,
        )
        assert theirs.status_code == 200, theirs.text
        assert ours.text == theirs.text
        total = ours.text.strip().splitlines()[-1].split(",")
        assert total[1] == "total" and total[2] == "2", ours.text
    page = web.get(f"{gateway.base_url}/admin/speed", params={"location": LOCATION}, timeout=10)
    assert page.status_code == 200 and 'class="total"' in page.text
    bad = web.get(f"{gateway.base_url}/admin/speed", params={"by": "weekday"}, timeout=10)
    assert bad.status_code == 400 and "by must be one of" in bad.json()["detail"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_every_page_on_both_stores(
    engine: str, make_gateway: Callable[..., GatewayProcess], request: pytest.FixtureRequest
) -> None:
    database = None
    if engine == "postgresql":
        database = request.getfixturevalue("postgres").create_database()
    gateway = make_gateway(settings=admin_settings(), database=database)
    assert gateway.engine == engine
    gateway.register(LOCATION)
    device = gateway.enroll_device(LOCATION, name="Both stores")
    heartbeat(gateway, device, last_seq=1)
    order = {
        "orderId": "both-1",
        "_created": "2020-01-01T00:00:00Z",
        "items": [{"name": "Fries", "quantity": 1}],
    }
    assert gateway.send_order(LOCATION, order).status_code == 200
    assert gateway.post_status(device, "both-1", 70).status_code == 200
    assert gateway.post_webhook(f"/deliverect/{LOCATION}/orders", b"{not json").status_code == 400
    web = login(gateway)
    base = f"{gateway.base_url}/admin"
    rejected = gateway.journal().rejected(1)[0]["id"]
    seq = gateway.journal().events_after(LOCATION, 0)[0].seq
    expected = {
        "/": [LOCATION, "both-1", "1 order(s)"],
        "/screens": ["Both stores", 'data-state="online"'],
        "/webhooks": ["both-1", f"/kept/rejected/{rejected}"],
        f"/events/{LOCATION}/{seq}": ["Fries"],
        f"/kept/rejected/{rejected}": ["{not json"],
        "/outbox": ["pending"],
        "/rules": ["no routing rules"],
        f"/speed?location={LOCATION}&by=location": [LOCATION, 'class="total"'],
        "/live/webhooks": ["both-1"],
        "/live/screens": ["Both stores"],
    }
    for path, shown in expected.items():
        answer = web.get(f"{base}{path}", timeout=20)
        assert answer.status_code == 200, (path, answer.text[:300])
        for text in shown:
            assert text in answer.text, (path, text)
    # Rotate, then revoke, through the page.
    token = csrf_token(web.get(f"{base}/screens", timeout=10).text)
    for action, state in (("rotate", "rotated"), ("revoke", "revoked")):
        answer = web.post(
            f"{base}/screens/{device.device_id}/{action}", data={"csrf_token": token}, timeout=10
        )
        assert answer.status_code == 200 and f"{device.device_id} {state}" in answer.text
        assert f'data-state="{state}"' in answer.text
    missing = web.post(f"{base}/screens/dev_nope/revoke", data={"csrf_token": token}, timeout=10)
    assert "No screen dev_nope" in missing.text


def test_the_session_key_is_made_at_the_first_admin_request(
    admin_gateway: GatewayProcess,
) -> None:
    """Not when a worker boots: a worker started during a storage fault must still start."""

    def keys() -> int:
        count = (
            admin_gateway.db()
            .read()
            .execute("SELECT COUNT(*) FROM cursors WHERE name LIKE 'admin.session_key.%'")
            .fetchone()[0]
        )
        return int(count)

    assert admin_gateway.session.get(f"{admin_gateway.base_url}/api/v1/health").ok
    assert keys() == 0
    assert requests.get(f"{admin_gateway.base_url}/admin/login", timeout=10).status_code == 200
    assert keys() == 4


def test_a_storage_fault_before_the_first_admin_request_is_a_503(
    make_gateway: Callable[..., GatewayProcess],
) -> None:
    """The key cannot be made while another process holds the database's write lock: the
    admin page answers 503 (the gateway itself keeps running), then works once it is free."""
    settings = {**admin_settings(), "database": {"busy_timeout_s": 0.5}}
    gateway = make_gateway(settings=settings)
    assert gateway.process is not None
    fault = Locked()
    fault.begin(Path(gateway.db_path), gateway.process.pid)
    try:
        answer = requests.get(f"{gateway.base_url}/admin/login", timeout=20)
        assert answer.status_code == 503, answer.text
        assert answer.headers.get("Retry-After")
    finally:
        fault.end()
    web = login(gateway)
    assert web.get(f"{gateway.base_url}/admin/", timeout=10).status_code == 200


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_chart_shows_the_median_of_the_screens_delays(
    engine: str, make_gateway: Callable[..., GatewayProcess], request: pytest.FixtureRequest
) -> None:
    database = None
    if engine == "postgresql":
        database = request.getfixturevalue("postgres").create_database()
    gateway = make_gateway(settings=admin_settings(), database=database)
    gateway.register(LOCATION)
    screens = [gateway.enroll_device(LOCATION, name=f"Screen {i}") for i in range(3)]
    for number in (1, 2):
        order = {"orderId": f"chart-{number}", "items": [{"name": "Fries", "quantity": 1}]}
        assert gateway.send_order(LOCATION, order).status_code == 200
    first = gateway.journal().events_after(LOCATION, 0)[0].seq
    for screen, ms in zip(screens, (100, 900, 250), strict=True):
        heartbeat(gateway, screen, last_seq=first, shown_ms=[{"seq": first, "ms": ms}])
    page = login(gateway).get(f"{gateway.base_url}/admin/", timeout=20)
    assert page.status_code == 200
    assert "2 order(s), 3 delay(s) reported by the screens" in page.text
    # one bucket has the first order's three delays: the line's point is their median
    assert page.text.count('class="dot"') == 1
    assert "median 250 ms to the screens" in page.text
    assert ">300 ms<" in page.text  # the delay axis: 250 rounded up
