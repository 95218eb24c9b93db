"""The fast path: the location's events from the broker (paho-mqtt 2, MQTT 5).

What keeps orders from being lost (RELIABILITY traps 1-3):

* a persistent session: a stable client id derived from the device id, ``clean_start=False``
  and a session expiry, so the broker queues what is published while the device restarts;
* QoS 1 and ``manual_ack=True``: a message is acknowledged only when the app has committed it
  (the ``ack`` of :class:`EventsArrived`), so a crash before the commit means redelivery;
* the subscription is made in ``on_connect``, so every reconnect re-subscribes;
* a reconnect, a lost session or a gap in ``seq`` asks the HTTP poller for a catch-up: the
  broker's queue is bounded, the gateway's journal is the truth.

paho's callbacks run on its network thread: they parse, post to the inbox and return.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kds_device.adapters.enrollment import Enrollment, MqttSettings
from kds_device.adapters.event_poller import FeedCursor
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.domain.events import Event
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import EventsArrived, Message

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 24 * 3600  # a screen switched off overnight still gets what it missed
KEEPALIVE_S = 15  # a dead broker is noticed within ~1.5 keepalives
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


def client_id_for(device_id: str) -> str:
    """Stable across restarts (the broker finds the session by it), unique per device."""
    safe = "".join(ch for ch in device_id if ch.isalnum() or ch in "-_")
    return f"kds-device-{safe}"[:64]


class MqttFeed:
    """Subscribes to ``kds/{locationId}/events`` and posts each event to the inbox."""

    def __init__(
        self,
        settings: MqttSettings,
        device_id: str,
        location_id: str,
        inbox: Inbox[Message],
        monitor: LinkMonitor,
        cursor: FeedCursor,
        catch_up: Callable[[], None],
        session_expiry_s: int = SESSION_EXPIRY_S,
        keepalive_s: int = KEEPALIVE_S,
    ) -> None:
        self._settings = settings
        self._location_id = location_id
        self._inbox = inbox
        self._monitor = monitor
        self._cursor = cursor
        self._catch_up = catch_up
        self._session_expiry_s = session_expiry_s
        self._keepalive_s = keepalive_s
        self._stopping = threading.Event()
        self.client_id = client_id_for(device_id)
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
            reconnect_on_failure=True,
        )
        if settings.username:
            self._client.username_pw_set(settings.username, settings.password or None)
        if settings.tls:  # verified against the site CA from the enrollment, if it gave one
            context = ssl.create_default_context(cadata=settings.ca_cert or None)
            self._client.tls_set_context(context)
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect in the background (paho's thread); a broker that is down is retried."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._session_expiry_s
        self._client.connect_async(
            self._settings.host,
            self._settings.port,
            keepalive=self._keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def use_credentials(self, enrollment: Enrollment) -> None:
        """New broker password after a rotation: used from the next (re)connect on."""
        settings = enrollment.mqtt
        if settings is None or not settings.username:
            return
        self._settings = settings
        self._client.username_pw_set(settings.username, settings.password or None)
        log.info("broker login renewed; reconnecting with it")

    def stop(self) -> None:
        """Disconnect cleanly (the session and its queue stay on the broker) and join."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        # paho closes its wake-up socket pair only when the client is collected, and a client
        # collected in a reference cycle (its callbacks are this feed's methods) may have its
        # sockets finalized first: "unclosed socket" warnings. Closed here instead.
        self._client._reset_sockets(sockpair_only=True)

    # ---- paho callbacks (network thread) ------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            self._monitor.mqtt_down(f"refused: {reason}")
            return
        resumed = bool(getattr(flags, "session_present", False))
        log.info(
            "connected to the broker %s:%d (%s)",
            self._settings.host,
            self._settings.port,
            "session resumed" if resumed else "new session",
        )
        result, _mid = client.subscribe(self._settings.topic, qos=1)
        if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
            log.warning("subscribe to %s failed: %s", self._settings.topic, result)
        self._catch_up()  # whatever the broker did not keep, the journal has

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.warning("broker refused the subscription to %s: %s", self._settings.topic, failed)
            self._monitor.mqtt_down(f"subscription refused: {failed[0]}")
            return
        self._monitor.mqtt_up()
        self._catch_up()  # anything published between connect and subscribe

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._monitor.mqtt_down("broker unreachable")

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if not self._stopping.is_set():
            log.warning("broker connection lost: %s", reason)
        self._monitor.mqtt_down("reconnecting" if not self._stopping.is_set() else "stopped")

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        mid, qos = message.mid, message.qos
        try:
            event = Event.from_json(json.loads(message.payload))
        except (ValueError, UnicodeDecodeError) as error:
            log.warning("skipping a junk message on %s: %s", message.topic, error)
            client.ack(mid, qos)  # never redeliver junk forever
            return
        if event.location_id and event.location_id != self._location_id:
            log.warning("skipping event %d of another location %r", event.seq, event.location_id)
            client.ack(mid, qos)
            return
        # Post first, then move the cursor: an HTTP answer fetched from the new cursor must
        # reach the inbox after this event, or the app could step past it.
        self._inbox.post(EventsArrived((event,), "mqtt", ack=_Ack(client, mid, qos)))
        if self._cursor.note_mqtt(event.seq):
            log.info("gap before seq %d: catching up over HTTP", event.seq)
            self._catch_up()


class _Ack:
    """Acknowledge one message once the app has committed it (callable from any thread).

    If the connection dropped in between, the broker redelivers the message on the resumed
    session and the app ignores it by ``seq``: acknowledging late is safe, early is not.
    """

    __slots__ = ("_client", "_mid", "_qos")

    def __init__(self, client: mqtt.Client, mid: int, qos: int) -> None:
        self._client = client
        self._mid = mid
        self._qos = qos

    def __call__(self) -> None:
        if self._qos == 0:
            return
        result = self._client.ack(self._mid, self._qos)
        if result not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            log.debug("ack of message %d: %s", self._mid, result)
