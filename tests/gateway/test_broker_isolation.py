"""Mosquitto with per-screen users (dynamic security plugin) made by the gateway: a screen reads
its own location's topic and nothing else, publishes nothing, owns its client id, and is cut
off at revocation; rotation swaps its password. All against a real broker and gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from kds_device.sim.orders import OrderGenerator
from tests.fixtures.broker_client import BrokerClient, refused
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.mosquitto import Mosquitto, wait_until

pytestmark = [pytest.mark.timeout(120), pytest.mark.mqtt]

LOC_A = "65f0c1a2b3c4d5e6f7a8b0aa"
LOC_B = "65f0c1a2b3c4d5e6f7a8b0bb"
#: "Within seconds": a revoked or rotated screen's broker connection must be gone by then.
CUT_OFF_S = 5.0


@pytest.fixture
def site(
    make_gateway: Callable[..., GatewayProcess], secure_mosquitto: Mosquitto
) -> GatewayProcess:
    gateway = make_gateway(mqtt=secure_mosquitto)
    gateway.register(LOC_A)
    gateway.register(LOC_B)
    return gateway


def screen(broker: Mosquitto, device: EnrolledDevice, make: Callable[..., BrokerClient]) -> Any:
    """The screen's broker login, as the device's MQTT feed makes it."""
    assert device.mqtt is not None
    client = make(
        broker, device.mqtt["username"], device.mqtt["password"], f"kds-device-{device.device_id}"
    )
    assert client.accepted, client.connack
    return client


def seqs(client: BrokerClient) -> set[int]:
    return {p["seq"] for p in client.payloads() if isinstance(p, dict)}


def test_anonymous_and_wrong_passwords_are_refused(
    site: GatewayProcess, secure_mosquitto: Mosquitto
) -> None:
    device = site.enroll_device(LOC_A)
    assert device.mqtt is not None
    assert device.mqtt["username"] == device.device_id  # its own user, not a shared one
    client_id = f"kds-device-{device.device_id}"
    assert refused(secure_mosquitto, None, None, "anonymous-probe")
    assert refused(secure_mosquitto, None, None, client_id)
    assert refused(secure_mosquitto, device.device_id, "not-the-password", client_id)
    assert not refused(secure_mosquitto, device.device_id, device.mqtt["password"], client_id)


def test_a_screen_reads_only_its_own_location_and_the_gateway_still_publishes(
    site: GatewayProcess, secure_mosquitto: Mosquitto, broker_clients: Callable[..., Any]
) -> None:
    a, b = site.enroll_device(LOC_A), site.enroll_device(LOC_B)
    screen_a, screen_b = (screen(secure_mosquitto, d, broker_clients) for d in (a, b))
    assert not screen_a.subscribe(f"kds/{LOC_A}/events").is_failure
    for foreign in (f"kds/{LOC_B}/events", "kds/#", "kds/+/events", "#", "$CONTROL/#"):
        assert screen_a.subscribe(foreign).is_failure, f"{foreign} was granted"
    assert not screen_b.subscribe(f"kds/{LOC_B}/events").is_failure

    gen_a, gen_b = OrderGenerator(seed=1, location=LOC_A), OrderGenerator(seed=2, location=LOC_B)
    for _ in range(3):
        assert site.send_order(LOC_B, gen_b.order()).status_code == 200
        assert site.send_order(LOC_A, gen_a.order()).status_code == 200
    wait_until(lambda: seqs(screen_a) >= {1, 2, 3}, 15, "location A's events at screen A")
    wait_until(lambda: seqs(screen_b) >= {1, 2, 3}, 15, "location B's events at screen B")
    # B's events were published before A's last one and reached B: had A been able to read
    # them, they would be here by now.
    assert screen_a.topics() == {f"kds/{LOC_A}/events"}
    assert {p["locationId"] for p in screen_a.payloads()} == {LOC_A}
    assert screen_b.topics() == {f"kds/{LOC_B}/events"}


def test_a_screen_can_publish_nothing(
    site: GatewayProcess, secure_mosquitto: Mosquitto, broker_clients: Callable[..., Any]
) -> None:
    a, b = site.enroll_device(LOC_A), site.enroll_device(LOC_B)
    screen_a, screen_b = (screen(secure_mosquitto, d, broker_clients) for d in (a, b))
    screen_a.subscribe(f"kds/{LOC_A}/events")
    screen_b.subscribe(f"kds/{LOC_B}/events")
    forged = b'{"seq": 1, "type": "order", "locationId": "x", "data": {}}'
    for topic in (f"kds/{LOC_A}/events", f"kds/{LOC_B}/events", "kds/x", "$CONTROL/x"):
        reason = screen_a.publish(topic, forged)
        assert reason.is_failure, f"publishing to {topic} was accepted: {reason}"
    # Then the gateway publishes: its events arrive, and they are the only thing that did.
    gen_a, gen_b = OrderGenerator(seed=3, location=LOC_A), OrderGenerator(seed=4, location=LOC_B)
    site.send_order(LOC_A, gen_a.order())
    site.send_order(LOC_B, gen_b.order())
    wait_until(lambda: seqs(screen_a) == {1} and seqs(screen_b) == {1}, 15, "the gateway's events")
    for client in (screen_a, screen_b):
        payloads = client.payloads()  # the gateway's event (QoS 1 may repeat it), no forged one
        assert payloads and all(p["locationId"] != "x" for p in payloads), payloads


def test_no_other_client_can_take_a_screens_client_id(
    site: GatewayProcess, secure_mosquitto: Mosquitto, broker_clients: Callable[..., Any]
) -> None:
    a, b = site.enroll_device(LOC_A), site.enroll_device(LOC_A)
    assert a.mqtt is not None and b.mqtt is not None
    screen_a = screen(secure_mosquitto, a, broker_clients)
    screen_a.subscribe(f"kds/{LOC_A}/events")
    a_id = f"kds-device-{a.device_id}"
    # Another screen's valid login, anonymous, or A's user under another id: all refused.
    assert refused(secure_mosquitto, b.device_id, b.mqtt["password"], a_id)
    assert refused(secure_mosquitto, None, None, a_id)
    assert refused(secure_mosquitto, a.device_id, a.mqtt["password"], f"kds-device-{b.device_id}")
    assert refused(secure_mosquitto, a.device_id, a.mqtt["password"], "someone-else")
    # A was never taken over: still connected, still served.
    assert screen_a.connected and not screen_a.disconnects
    site.send_order(LOC_A, OrderGenerator(seed=5, location=LOC_A).order())
    wait_until(lambda: seqs(screen_a) == {1}, 15, "an event at screen A")


def test_a_revoked_screen_is_cut_off_within_seconds(
    site: GatewayProcess, secure_mosquitto: Mosquitto, broker_clients: Callable[..., Any]
) -> None:
    a, kept = site.enroll_device(LOC_A), site.enroll_device(LOC_A)
    assert a.mqtt is not None
    screen_a, screen_kept = (screen(secure_mosquitto, d, broker_clients) for d in (a, kept))
    screen_a.subscribe(f"kds/{LOC_A}/events")
    screen_kept.subscribe(f"kds/{LOC_A}/events")
    assert site.events(a)["lastSeq"] == 0

    started = time.monotonic()
    result = site.cli("devices", "revoke", a.device_id)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: screen_a.disconnects, CUT_OFF_S, "the broker to drop the revoked screen")
    assert screen_a.disconnected_at is not None
    assert screen_a.disconnected_at - started < CUT_OFF_S
    response = site.session.get(
        f"{site.base_url}/api/v1/events", headers=a.headers, params={"after": 0}, timeout=10
    )
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert refused(secure_mosquitto, a.device_id, a.mqtt["password"], f"kds-device-{a.device_id}")
    # The others at the location carry on.
    assert screen_kept.connected and site.events(kept)["lastSeq"] == 0
    site.send_order(LOC_A, OrderGenerator(seed=6, location=LOC_A).order())
    wait_until(lambda: seqs(screen_kept) == {1}, 15, "an event at the kept screen")
    listed = site.cli("devices", "list").stdout.splitlines()
    assert any(line.startswith(kept.device_id) and " online " in line for line in listed)
    # The revoked screen stays listed a while, as revoked (it can no longer be online).
    assert [" REVOKED " in line for line in listed if line.startswith(a.device_id)] == [True]
    again = site.cli("devices", "revoke", a.device_id)
    assert again.returncode == 1 and "no device" in again.stderr


def test_rotation_swaps_the_token_and_broker_password(
    site: GatewayProcess, secure_mosquitto: Mosquitto, broker_clients: Callable[..., Any]
) -> None:
    a = site.enroll_device(LOC_A)
    assert a.mqtt is not None
    client_id = f"kds-device-{a.device_id}"
    old = screen(secure_mosquitto, a, broker_clients)
    old.subscribe(f"kds/{LOC_A}/events")

    result = site.cli("devices", "rotate", a.device_id)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: old.disconnects, CUT_OFF_S, "the broker to drop the rotated screen")
    assert refused(secure_mosquitto, a.device_id, a.mqtt["password"], client_id)
    assert "rotated" in site.cli("devices", "list").stdout
    url = f"{site.base_url}/api/v1"
    events = site.session.get(f"{url}/events", headers=a.headers, timeout=10)
    assert events.status_code == 401 and events.json()["error"] == "credentials_rotated"

    renewed = site.session.post(f"{url}/credentials", headers=a.headers, timeout=10)
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["deviceId"] == a.device_id and body["token"] != a.token
    assert body["mqtt"]["password"] != a.mqtt["password"]
    new = EnrolledDevice(a.device_id, body["token"], LOC_A, body["mqtt"])

    # The new ones work (same user, same client id); the old ones do not.
    assert refused(secure_mosquitto, a.device_id, a.mqtt["password"], client_id)
    fresh = screen(secure_mosquitto, new, broker_clients)
    assert not fresh.subscribe(f"kds/{LOC_A}/events").is_failure
    site.send_order(LOC_A, OrderGenerator(seed=7, location=LOC_A).order())
    wait_until(lambda: seqs(fresh) == {1}, 15, "an event with the new password")
    assert site.events(new)["lastSeq"] == 1
    for path in ("events", "credentials"):
        method = site.session.get if path == "events" else site.session.post
        stale = method(f"{url}/{path}", headers=a.headers, timeout=10)
        assert stale.status_code == 401 and stale.json()["error"] == "unauthorized"


def test_with_the_broker_down_enrollment_waits_and_revocation_says_run_again(
    site: GatewayProcess, secure_mosquitto: Mosquitto, broker_clients: Callable[..., Any]
) -> None:
    a = site.enroll_device(LOC_A)
    assert a.mqtt is not None
    code = site.enroll_code(LOC_A)
    secure_mosquitto.stop()
    url = f"{site.base_url}/api/v1"
    refused_enroll = site.session.post(f"{url}/enroll", json={"code": code}, timeout=30)
    assert refused_enroll.status_code == 503, refused_enroll.text
    assert refused_enroll.json()["error"] == "broker_unavailable"
    assert refused_enroll.headers["Retry-After"]
    result = site.cli("devices", "revoke", a.device_id)
    assert result.returncode == 1 and "Run this again" in result.stderr
    events = site.session.get(f"{url}/events", headers=a.headers, timeout=10)
    assert events.status_code == 401  # HTTP is cut even so

    secure_mosquitto.start()  # its users were saved: A's login still exists there
    client_id = f"kds-device-{a.device_id}"
    assert not refused(secure_mosquitto, a.device_id, a.mqtt["password"], client_id)
    again = site.cli("devices", "revoke", a.device_id)
    assert again.returncode == 0, again.stderr
    assert refused(secure_mosquitto, a.device_id, a.mqtt["password"], client_id)
    # The code the failed enrollment did not spend still works.
    assert site.session.post(f"{url}/enroll", json={"code": code}, timeout=30).status_code == 200
