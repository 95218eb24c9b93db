"""``POST /api/v1/heartbeat`` served for real on both stores: the latest heartbeat per screen
is kept, read back by ``heartbeats()`` and shown by ``kds-gateway devices list``; bad bodies
get a 400 with a reason and change nothing; a revoked screen is refused. Every exchange is
checked against openapi.yml."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.devices import Devices
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess

pytestmark = pytest.mark.timeout(90)


def beat(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "1.2.3",
        "role": "stations",
        "stations": ["grill", "fryer"],
        "link": "mqtt",
        "bumps_waiting": 3,
        "last_seq": 41,
        "clock_synced": True,
        "cpu_temp_c": 52.5,
    }
    body.update(changes)
    return body


def send(api: GatewayProcess, device: EnrolledDevice, body: Any) -> requests.Response:
    return api.session.post(
        f"{api.base_url}/api/v1/heartbeat", json=body, headers=device.headers, timeout=10
    )


def status_of(api: GatewayProcess, device: EnrolledDevice) -> DeviceStatus:
    found = [s for s in Devices(api.db()).heartbeats(device.location_id)]
    mine = [s for s in found if s.device_id == device.device_id]
    assert len(mine) == 1, found
    return mine[0]


def listed_line(api: GatewayProcess, device_id: str) -> str:
    listing = api.cli("devices", "list")
    assert listing.returncode == 0, listing.stderr
    lines = [line for line in listing.stdout.splitlines() if line.startswith(device_id)]
    assert len(lines) == 1, listing.stdout
    return lines[0]


def test_the_latest_heartbeat_is_kept_and_listed(api: GatewayProcess, loc: str) -> None:
    device = api.enroll_device(loc, name="Grill screen")
    quiet = status_of(api, device)  # enrolled, never beat: the gateway's own view
    assert (quiet.version, quiet.link, quiet.last_seq, quiet.role) == (None, None, None, "all")
    assert not quiet.revoked and not quiet.rotated
    before = time.time()
    first = send(api, device, beat())
    assert first.status_code == 204 and first.content == b""
    second = send(api, device, beat(link="http", bumps_waiting=0, last_seq=42, cpu_temp_c=None))
    assert second.status_code == 204
    status = status_of(api, device)
    assert status == DeviceStatus(
        device_id=device.device_id,
        location_id=loc,
        name="Grill screen",
        role="stations",
        stations=("grill", "fryer"),
        version="1.2.3",
        link="http",
        bumps_waiting=0,
        last_seq=42,
        clock_synced=True,
        cpu_temp_c=None,
        seen_at=status.seen_at,
        revoked=False,
        rotated=False,
    )
    assert status.seen_at is not None and before - 1 <= status.seen_at <= time.time() + 1
    assert status.online(time.time()) and not status.online(status.seen_at + 61)
    assert status.online(status.seen_at + 5, silent_s=10) and not status.online(
        status.seen_at + 11, silent_s=10
    )
    line = listed_line(api, device.device_id)
    assert "stations:grill,fryer" in line and " online " in line and " http " in line
    assert " 42 " in line and "1.2.3" in line and " ok " in line
    others = [s.device_id for s in Devices(api.db()).heartbeats(f"{loc}-other")]
    assert device.device_id not in others  # by location


def test_bad_heartbeats_get_a_reason_and_change_nothing(api: GatewayProcess, loc: str) -> None:
    device = api.enroll_device(loc)
    assert send(api, device, beat(last_seq=7)).status_code == 204
    kept = status_of(api, device)
    bad: list[tuple[Any, str]] = [
        (["version"], "JSON object"),
        ({}, "version"),
        (beat(version=""), "version"),
        (beat(version="x" * 201), "version"),
        (beat(role="chef"), "role"),
        (beat(link="wifi"), "link"),
        (beat(stations="grill"), "stations"),
        (beat(stations=["Grill Bar"]), "station id"),
        (beat(stations=["expo"]), "station id"),
        (beat(stations=[f"s{i}" for i in range(33)]), "stations"),
        (beat(bumps_waiting=-1), "bumps_waiting"),
        (beat(bumps_waiting=True), "bumps_waiting"),
        (beat(last_seq=2**63), "last_seq"),
        (beat(last_seq="7"), "last_seq"),
        (beat(clock_synced="yes"), "clock_synced"),
        (beat(cpu_temp_c=1000), "cpu_temp_c"),
        (beat(cpu_temp_c="hot"), "cpu_temp_c"),
        (beat(shown_ms={"seq": 1, "ms": 5}), "shown_ms"),
        (beat(shown_ms=[[1, 5]]), "shown_ms"),
        (beat(shown_ms=[{"seq": 0, "ms": 5}]), "shown_ms seq"),
        (beat(shown_ms=[{"seq": 1}]), "shown_ms ms"),
        (beat(shown_ms=[{"seq": 1, "ms": -1}]), "shown_ms ms"),
        (beat(shown_ms=[{"seq": 1, "ms": 3_600_001}]), "shown_ms ms"),
        (beat(shown_ms=[{"seq": 1, "ms": 2.5}]), "shown_ms ms"),
        (beat(shown_ms=[{"seq": i + 1, "ms": 5} for i in range(101)]), "shown_ms"),
    ]
    for body, reason in bad:
        response = send(api, device, body)
        assert response.status_code == 400, (body, response.text)
        answer = response.json()
        assert answer["error"] == "bad_request" and reason in answer["detail"], (body, answer)
    raw = api.session.post(
        f"{api.base_url}/api/v1/heartbeat",
        data=b'{"version": NaN}',
        headers={**device.headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert raw.status_code == 400 and raw.json()["error"] == "bad_request"
    assert status_of(api, device) == kept  # nothing of them was kept
    assert delays_of(api, device) == []
    assert "Traceback" not in api.log_text()


def delays_of(api: GatewayProcess, device: EnrolledDevice) -> list[tuple[int, float, int]]:
    rows = (
        api.db()
        .read()
        .execute(
            "SELECT seq, at, ms FROM shown_delays WHERE device_id = ? AND location_id = ?"
            " ORDER BY seq",
            (device.device_id, device.location_id),
        )
    )
    return [(int(r["seq"]), float(r["at"]), int(r["ms"])) for r in rows]


def test_order_to_screen_delays_are_kept_once_per_screen_and_order(
    api: GatewayProcess, loc: str
) -> None:
    api.register(loc)
    grill = api.enroll_device(loc, name="Grill")
    expo = api.enroll_device(loc, name="Expo")
    orders = OrderGenerator(seed=7, location=loc)
    before = time.time()
    for _ in range(3):
        assert api.send_order(loc, orders.order()).status_code == 200
    received = [e for e in api.events(grill, limit=100)["events"] if e["type"] == "order.received"]
    assert len(received) == 3
    first, second, third = (e["seq"] for e in received)
    samples = [{"seq": first, "ms": 120}, {"seq": second, "ms": 480}]
    assert send(api, grill, beat(shown_ms=samples)).status_code == 204
    # retried (the answer was lost): nothing more, the first figure stays
    retried = [{"seq": first, "ms": 999}, {"seq": second, "ms": 480}]
    assert send(api, grill, beat(shown_ms=retried)).status_code == 204
    # a seq that is no order received here (a status event, one never journaled): left out
    odd = [{"seq": third, "ms": 75}, {"seq": third + 1000, "ms": 5}]
    assert send(api, grill, beat(shown_ms=odd)).status_code == 204
    assert send(api, expo, beat(shown_ms=[{"seq": first, "ms": 300}])).status_code == 204
    kept = delays_of(api, grill)
    assert [(seq, ms) for seq, _at, ms in kept] == [(first, 120), (second, 480), (third, 75)]
    assert all(before - 1 <= at <= time.time() + 1 for _seq, at, _ms in kept)
    assert [(seq, ms) for seq, _at, ms in delays_of(api, expo)] == [(first, 300)]
    assert status_of(api, grill).last_seq == 41  # the rest of the heartbeat still counts
    from kds_device.gateway.heartbeats import delays_since

    mine = {at for _seq, at, _ms in kept}
    assert sorted(ms for at, ms in delays_since(api.db(), before - 1) if at in mine) == [
        75,
        120,
        300,
        480,
    ]


def test_without_a_token_or_revoked_a_heartbeat_is_refused(api: GatewayProcess, loc: str) -> None:
    device = api.enroll_device(loc, name="Old screen")
    assert send(api, device, beat(last_seq=5)).status_code == 204
    nobody = api.session.post(f"{api.base_url}/api/v1/heartbeat", json=beat(), timeout=10)
    assert nobody.status_code == 401 and nobody.json()["error"] == "unauthorized"
    assert api.cli("devices", "revoke", device.device_id).returncode == 0
    refused = send(api, device, beat(last_seq=6))
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    status = status_of(api, device)
    assert status.revoked and not status.online(time.time())
    assert status.last_seq == 5  # the refused heartbeat was not kept
    assert "REVOKED" in listed_line(api, device.device_id)


def test_a_rotated_screen_beats_after_fetching_new_credentials(
    api: GatewayProcess, loc: str
) -> None:
    device = api.enroll_device(loc)
    assert api.cli("devices", "rotate", device.device_id).returncode == 0
    refused = send(api, device, beat())
    assert refused.status_code == 401 and refused.json()["error"] == "credentials_rotated"
    assert status_of(api, device).rotated
    assert "/rotated" in listed_line(api, device.device_id)
    renewed = api.session.post(
        f"{api.base_url}/api/v1/credentials", headers=device.headers, timeout=10
    )
    assert renewed.status_code == 200
    fresh = EnrolledDevice(device.device_id, renewed.json()["token"], loc, None)
    assert send(api, fresh, beat(last_seq=9)).status_code == 204
    status = status_of(api, fresh)
    assert not status.rotated and status.last_seq == 9
