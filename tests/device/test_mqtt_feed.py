"""The MQTT feed against a real Mosquitto: persistent session, ack after commit, gaps, junk.

The test publishes as the gateway would (QoS 1, Event JSON on kds/{location}/events), so each
broker behaviour is proven on its own, without the HTTP poller filling holes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kds_device.adapters.enrollment import MqttSettings
from kds_device.adapters.event_poller import FeedCursor
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.adapters.mqtt_feed import MqttFeed, client_id_for
from kds_device.domain.events import Event
from kds_device.runtime.messages import Link
from tests.fixtures.device import InboxRecorder
from tests.fixtures.mosquitto import Mosquitto, wait_until

pytestmark = [pytest.mark.timeout(60), pytest.mark.mqtt]

LOCATION = "loc-mqtt"
TOPIC = f"kds/{LOCATION}/events"


class Publisher:
    """The gateway's side: QoS 1 publishes, waited for."""

    def __init__(self, broker: Mosquitto) -> None:
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id="test-publisher",
            protocol=mqtt.MQTTv5,
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def event(self, seq: int, order_id: str | None = None) -> None:
        event = Event(seq, LOCATION, "order.status", order_id or f"o{seq}", {"status": 50})
        self.raw(json.dumps(event.to_json()).encode())

    def raw(self, payload: bytes) -> None:
        self.client.publish(TOPIC, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    publisher = Publisher(mosquitto)
    yield publisher
    publisher.close()


class Device:
    """One screen's feed; ``start()`` again after ``stop()`` is a device restart."""

    def __init__(self, broker: Mosquitto, recorder: InboxRecorder, start_seq: int = 0) -> None:
        self.broker = broker
        self.recorder = recorder
        self.catch_ups = 0
        self.cursor = FeedCursor(start_seq)
        self.monitor = LinkMonitor(recorder.inbox, mqtt_configured=True)
        self.monitor.http_ok()  # the gateway side is not under test here
        self.feed: MqttFeed | None = None

    def _catch_up(self) -> None:
        self.catch_ups += 1

    def start(self) -> None:
        settings = MqttSettings(self.broker.host, self.broker.port, "", "", False, TOPIC)
        self.feed = MqttFeed(
            settings,
            "dev-1",
            LOCATION,
            self.recorder.inbox,
            self.monitor,
            self.cursor,
            self._catch_up,
        )
        self.feed.start()
        self.recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, what="subscribed")

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.stop()
            self.feed = None


@pytest.fixture
def device(mosquitto: Mosquitto, recorder: InboxRecorder) -> Iterator[Device]:
    device = Device(mosquitto, recorder)
    device.start()
    yield device
    device.stop()


def _seq_list(recorder: InboxRecorder) -> list[int]:
    return [e.seq for e in recorder.events("mqtt")]


def test_events_arrive_with_an_ack_and_the_cursor_follows(
    device: Device, recorder: InboxRecorder, publisher: Publisher
) -> None:
    for seq in (1, 2, 3):
        publisher.event(seq)
    recorder.wait_for(lambda r: _seq_list(r) == [1, 2, 3], what="three events")
    assert device.cursor.value == 3 and not device.cursor.has_gap
    assert client_id_for("dev-1") == "kds-device-dev-1"


def test_a_restarted_device_gets_what_was_published_while_it_was_off(
    device: Device, recorder: InboxRecorder, publisher: Publisher
) -> None:
    publisher.event(1)
    recorder.wait_for(lambda r: _seq_list(r) == [1], what="first event")
    device.stop()
    for seq in (2, 3, 4):
        publisher.event(seq)  # queued by the broker for the persistent session
    device.start()
    recorder.wait_for(lambda r: _seq_list(r) == [1, 2, 3, 4], what="the queued events")


def test_an_unacknowledged_message_is_redelivered_after_a_crash(
    device: Device, recorder: InboxRecorder, publisher: Publisher
) -> None:
    recorder.auto_ack = False  # the app "crashes" before committing
    publisher.event(1)
    recorder.wait_for(lambda r: _seq_list(r) == [1], what="the event")
    device.stop()
    recorder.auto_ack = True
    device.start()
    recorder.wait_for(lambda r: _seq_list(r) == [1, 1], what="the redelivery")
    device.stop()  # acknowledged now: a third start brings nothing again
    publisher.event(2)
    device.start()
    recorder.wait_for(lambda r: _seq_list(r) == [1, 1, 2], what="only the new one")


def test_a_gap_asks_for_a_catch_up(
    device: Device, recorder: InboxRecorder, publisher: Publisher
) -> None:
    before = device.catch_ups
    publisher.event(1)
    publisher.event(3)
    recorder.wait_for(lambda r: _seq_list(r) == [1, 3], what="both events")
    # the event is posted before the catch-up is asked for (so HTTP cannot overtake it)
    wait_until(lambda: device.catch_ups == before + 1, 5, "one catch-up request")
    assert device.cursor.value == 1 and device.cursor.has_gap


def test_junk_is_skipped_acknowledged_and_never_crashes(
    device: Device, recorder: InboxRecorder, publisher: Publisher
) -> None:
    for junk in (b"not json", b"[]", b'{"seq": 0, "type": "x"}', b"\xff\xfe", b'{"seq": 1}'):
        publisher.raw(junk)
    other = Event(1, "another-location", "order.status", "o", {})
    publisher.raw(json.dumps(other.to_json()).encode())
    publisher.event(1)
    recorder.wait_for(lambda r: _seq_list(r) == [1], what="the good event")
    device.stop()
    device.start()  # junk was acknowledged: nothing comes back
    publisher.event(2)
    recorder.wait_for(lambda r: _seq_list(r) == [1, 2], what="only the next good one")


def test_a_broker_restart_is_survived(
    device: Device,
    recorder: InboxRecorder,
    publisher: Publisher,
    mosquitto: Mosquitto,
) -> None:
    publisher.event(1)
    recorder.wait_for(lambda r: _seq_list(r) == [1], what="first")
    catch_ups = device.catch_ups
    mosquitto.restart()
    recorder.wait_for(lambda r: r.link is Link.LIVE_HTTP, what="broker lost")
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, timeout=20, what="reconnected")
    assert device.catch_ups > catch_ups  # a reconnect always asks the journal too
    publisher.client.reconnect()  # the test's publisher has no auto-resubscribe to wait for
    wait_until(lambda: publisher.client.is_connected(), 10, "publisher back")
    publisher.event(2)
    recorder.wait_for(lambda r: _seq_list(r) == [1, 2], what="the next event")


def test_stop_while_the_broker_is_down_is_prompt(
    mosquitto: Mosquitto, recorder: InboxRecorder
) -> None:
    mosquitto.stop()
    device = Device(mosquitto, recorder)
    settings = MqttSettings(mosquitto.host, mosquitto.port, "", "", False, TOPIC)
    feed = MqttFeed(
        settings, "dev-2", LOCATION, recorder.inbox, device.monitor, device.cursor, lambda: None
    )
    feed.start()
    wait_until(lambda: device.monitor.mqtt_detail == "broker unreachable", 5, "a failed connect")
    started = time.monotonic()
    feed.stop()
    assert time.monotonic() - started < 2.0
    recorder.pump()
    assert recorder.link is Link.LIVE_HTTP  # never claimed MQTT
