"""The device side through a revocation and a rotation at the gateway: a real gateway with
per-screen broker users (Mosquitto's dynamic security plugin), the real DeviceLink."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kds_device.adapters.enrollment import load_enrollment, save_enrollment
from kds_device.config import ConnectionConfig
from kds_device.device_link import DeviceLink
from kds_device.runtime.messages import Link, LinkChanged
from kds_device.sim.orders import OrderGenerator
from kds_device.ui.status_view import REMOVED_BANNER, LinkAlarm, link_text
from tests.fixtures.device import InboxRecorder, identity_of
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import Mosquitto

pytestmark = [pytest.mark.timeout(120), pytest.mark.mqtt]

LOCATION = "loc-lifecycle"


@pytest.fixture
def site(
    make_gateway: Callable[..., GatewayProcess], secure_mosquitto: Mosquitto
) -> GatewayProcess:
    gateway = make_gateway(mqtt=secure_mosquitto)
    gateway.register(LOCATION)
    return gateway


@pytest.fixture
def link(site: GatewayProcess, device_dir: Path, recorder: InboxRecorder) -> Iterator[DeviceLink]:
    identity = identity_of(site, site.enroll_device(LOCATION))
    save_enrollment(device_dir, identity)
    link = DeviceLink(identity, device_dir, recorder.inbox, ConnectionConfig(poll_wait_s=5), 0)
    link.start()
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, what="live over MQTT")
    yield link
    link.stop()


def test_a_revoked_screen_says_it_was_removed_within_seconds(
    site: GatewayProcess, recorder: InboxRecorder, link: DeviceLink
) -> None:
    started = time.monotonic()
    result = site.cli("devices", "revoke", link.enrollment.device_id)
    assert result.returncode == 0, result.stderr
    recorder.wait_for(lambda r: r.link is Link.REMOVED, timeout=10, what="the removed state")
    assert time.monotonic() - started < 6.0  # the poller checks in every ~2.7 s under MQTT
    change = recorder.link_changes()[-1]
    # What the status bar and the banner then say: at once, not after the offline grace time.
    assert link_text(change, time.monotonic()) == ("REMOVED · RE-ENROLL", False)
    assert LinkAlarm(8.0, 120.0).banner(change, change.since_mono) == REMOVED_BANNER
    assert "REMOVED FROM THE KITCHEN" in REMOVED_BANNER and "enroll" in REMOVED_BANNER
    assert not link.monitor.mqtt_live  # the broker dropped it too


def test_a_rotated_screen_picks_up_its_new_credentials_and_keeps_going(
    site: GatewayProcess, recorder: InboxRecorder, link: DeviceLink, device_dir: Path
) -> None:
    before = load_enrollment(device_dir)
    assert before.mqtt is not None
    result = site.cli("devices", "rotate", before.device_id)
    assert result.returncode == 0, result.stderr
    recorder.wait_for(lambda r: r.link is Link.LIVE_HTTP, timeout=10, what="the broker cut")
    # The poller's next call meets credentials_rotated, renews, saves, and the feed logs in
    # again with the new password (paho's reconnect back-off is at most a few seconds here).
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, timeout=45, what="back on MQTT")
    after = load_enrollment(device_dir)
    assert after.mqtt is not None
    assert after.token != before.token and after.mqtt.password != before.mqtt.password
    assert after.device_id == before.device_id
    assert all(c.link is not Link.REMOVED for c in recorder.link_changes())
    payload = OrderGenerator(seed=40).order()
    site.send_order(LOCATION, payload)
    recorder.wait_for(lambda r: payload["orderId"] in r.order_ids(), what="an order after it")
    assert "rotated" not in site.cli("devices", "list").stdout


def test_status_words_for_a_removed_screen() -> None:
    change = LinkChanged(Link.REMOVED, 100.0, "the gateway no longer knows this screen")
    assert link_text(change, 100.5)[1] is False
    alarm = LinkAlarm(8.0, 120.0)
    assert alarm.banner(change, 100.0) == REMOVED_BANNER
    assert not alarm.due(change, 150.0) and alarm.due(change, 221.0)
