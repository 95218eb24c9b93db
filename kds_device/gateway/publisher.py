"""Publishes the journal to MQTT: every event as JSON, QoS 1, on ``kds/{locationId}/events``.

The publisher reads the journal with its own cursor (stored in the database) and advances it
only after the broker acknowledged a batch, so a broker outage delays events but never loses
them, and never blocks a webhook. QoS 1 may repeat an event; devices dedupe on ``seq``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from kds_device.gateway import leases
from kds_device.gateway.config import MqttConfig
from kds_device.gateway.journal_feed import FeedPosition
from kds_device.gateway.ports import EventJournal
from kds_device.gateway.storage import StorageError

log = logging.getLogger(__name__)

LEASE = "mqtt-publisher"
CURSOR = "mqtt-publisher"
#: The transaction-id half of the publisher's position (PostgreSQL; always 0 on SQLite).
CURSOR_XID = "mqtt-publisher-xid"
BATCH = 500
ACK_TIMEOUT_S = 10.0
#: The cursor is saved at most this often: a write per batch would compete with webhooks for
#: the database. After a crash up to this much is published again (QoS 1 repeats anyway).
CURSOR_SAVE_S = 1.0


def topic_for(location_id: str) -> str:
    """The one topic a location's screens subscribe to."""
    return f"kds/{location_id}/events"


class MqttPublisher:
    """A paho client (reconnecting on its own thread) fed by a publishing thread."""

    def __init__(
        self,
        journal: EventJournal,
        config: MqttConfig,
        holder: str,
        recheck_s: float = 1.0,
        lease_s: float = 15.0,
    ) -> None:
        self.journal = journal
        self.config = config
        self.holder = holder
        self.recheck_s = recheck_s
        self.lease_s = lease_s
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._acks = threading.Condition()
        self._acked: set[int] = set()
        self._thread: threading.Thread | None = None
        self._cursor: FeedPosition = (0, 0)
        self._holding = False
        self._renew_at = 0.0
        self._saved_cursor: FeedPosition = (0, 0)
        self._saved_at = 0.0
        self.published = 0  # events acknowledged by the broker (for logs and tests)
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"{self.config.client_id}-{self.holder}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if self.config.username:
            client.username_pw_set(self.config.username, self.config.password or None)
        if self.config.tls:
            client.tls_set(ca_certs=self.config.ca_file or None)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.config.host, self.config.port, keepalive=30)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.journal.notifier.wake_local()  # only our own thread needs waking
        with self._acks:
            self._acks.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._holding:
            try:
                self._save_cursor(force=True)
                leases.release(self.journal.db, LEASE, self.holder)
            except StorageError:
                log.warning("mqtt: could not release the publisher lease", exc_info=True)
        self.client.disconnect()
        self.client.loop_stop()

    # ---- paho callbacks (network thread: keep them short) ----------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt: broker refused the connection: %s", reason)
            return
        log.info("mqtt: connected to %s:%d", self.config.host, self.config.port)
        self._connected.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected.is_set():
            log.warning("mqtt: disconnected (%s); paho reconnects", reason)
        self._connected.clear()
        with self._acks:
            self._acks.notify_all()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._acks:
            self._acked.add(mid)
            self._acks.notify_all()

    # ---- the publishing loop ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            generation = self.journal.notifier.generation
            if not self._connected.wait(timeout=1.0):
                continue
            try:
                if not self._hold_lease():
                    self._stop.wait(self.lease_s / 3)  # standing by for a sibling
                    continue
                batch = self.journal.published_form_since(self._cursor, BATCH)
                if not batch:
                    # Idle: save the cursor once it is due (not on every wake-up: each save is
                    # a write competing with the webhooks), and wait for the next commit. A
                    # wake-up reads at once, with no batching wait: what commits while a batch
                    # waits for its PUBACKs is the next batch.
                    self._save_cursor()
                    due = self._saved_at + CURSOR_SAVE_S - time.monotonic()
                    pending = self._cursor != self._saved_cursor
                    wait = min(self.recheck_s, max(0.0, due)) if pending else self.recheck_s
                    self.journal.notifier.wait_past(generation, wait)
                    continue
                self._publish(batch)
                self._save_cursor()
            except StorageError:
                log.exception("mqtt: database error; trying again shortly")
                self._stop.wait(self.recheck_s)

    def _save_cursor(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._cursor == self._saved_cursor or (
            not force and now < self._saved_at + CURSOR_SAVE_S
        ):
            return
        leases.write_position(self.journal.db, (CURSOR_XID, CURSOR), self._cursor)
        self._saved_cursor = self._cursor
        self._saved_at = now

    def _hold_lease(self) -> bool:
        now = time.time()
        if self._holding and now < self._renew_at:
            return True
        holding = leases.acquire(self.journal.db, LEASE, self.holder, self.lease_s)
        if holding and not self._holding:
            # Another process may have published since we last held it.
            self._cursor = self._saved_cursor = (
                leases.read_cursor(self.journal.db, CURSOR_XID),
                leases.read_cursor(self.journal.db, CURSOR),
            )
            log.info("mqtt: publishing the journal from event %s", self._cursor)
        self._holding = holding
        self._renew_at = now + self.lease_s / 3
        return holding

    def _publish(self, batch: list[tuple[FeedPosition, str, str]]) -> None:
        with self._acks:
            self._acked.clear()
        sent: list[tuple[FeedPosition, int]] = []  # (event's position, mid)
        for event_id, location_id, payload in batch:
            info = self.client.publish(topic_for(location_id), payload, qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break  # not connected: what is queued goes out on reconnect, the rest later
            sent.append((event_id, info.mid))
        deadline = time.monotonic() + ACK_TIMEOUT_S
        done = 0
        with self._acks:
            while True:
                while done < len(sent) and sent[done][1] in self._acked:
                    done += 1
                left = deadline - time.monotonic()
                if done == len(sent) or left <= 0 or self._stop.is_set():
                    break
                if not self._connected.is_set():
                    break
                self._acks.wait(left)
        if done:
            self._cursor = sent[done - 1][0]
            self.published += done
        if done < len(batch):
            log.debug("mqtt: %d of %d events acknowledged; resuming later", done, len(batch))
            self._connected.wait(timeout=1.0)
