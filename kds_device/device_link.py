"""Everything between the gateway and the inbox, wired once: the link monitor, the HTTP event
poller, the MQTT feed (when the enrollment names a broker) and the bump outbox.

Used by ``kds-device run`` (:mod:`kds_device.appliance`) and by the demo chain; no Kivy here,
so the tests drive the real device side against a real gateway without a screen.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kds_device.adapters.clock_sync import ClockCheck
from kds_device.adapters.credentials import Credentials
from kds_device.adapters.device_outbox import DeviceOutbox, OutboxDatabase, outbox_path
from kds_device.adapters.enrollment import Enrollment
from kds_device.adapters.event_poller import EventPoller, FeedCursor
from kds_device.adapters.gateway_client import GatewayClient
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.adapters.mqtt_feed import MqttFeed
from kds_device.adapters.role_reader import RoleReader
from kds_device.adapters.store import BoardStore
from kds_device.config import ConnectionConfig
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Message

log = logging.getLogger(__name__)


def stored_last_seq(board_file: Path) -> int:
    """The last event seq the board committed (meta ``last_seq``): where the feeds resume."""
    if not board_file.exists():
        return 0
    store = BoardStore(board_file)
    try:
        value = store.get_meta("last_seq")
    finally:
        store.close()
    return int(value) if value and value.isdigit() else 0


class DeviceLink:
    """Build with :meth:`open`; :meth:`start` in order, :meth:`stop` in reverse."""

    def __init__(
        self,
        enrollment: Enrollment,
        data_dir: Path,
        inbox: Inbox[Message],
        connection: ConnectionConfig,
        last_seq: int,
        use_mqtt: bool = True,
    ) -> None:
        self.enrollment = enrollment
        #: One set of secrets for all parts: a rotation at the gateway is picked up once.
        self.credentials = Credentials(enrollment, data_dir)
        mqtt = enrollment.mqtt if use_mqtt else None
        self.monitor = LinkMonitor(inbox, mqtt_configured=mqtt is not None)
        self.cursor = FeedCursor(last_seq)
        #: Is this screen's clock right? Every gateway answer's Date tells it (see clock_sync).
        self.clock = ClockCheck()
        self.outbox = DeviceOutbox(
            OutboxDatabase(outbox_path(data_dir)),
            GatewayClient.for_enrollment(enrollment, self.credentials, clock=self.clock),
            inbox,
        )
        # The heartbeat while MQTT is live must notice a lost gateway well inside the banner time.
        check_s = max(0.5, min(3.0, connection.offline_banner_s / 3))
        self.poller = EventPoller(
            GatewayClient.for_enrollment(enrollment, self.credentials, clock=self.clock),
            inbox,
            self.monitor,
            self.cursor,
            wait_s=connection.poll_wait_s,
            check_interval_s=check_s,
        )
        self.mqtt: MqttFeed | None = None
        if mqtt is not None:
            self.mqtt = MqttFeed(
                mqtt,
                enrollment.device_id,
                enrollment.location_id,
                inbox,
                self.monitor,
                self.cursor,
                catch_up=self.poller.request_catch_up,
            )
            self.credentials.on_renewed(self.mqtt.use_credentials)
        #: What this screen is for, asked of the gateway once at start.
        self.roles = RoleReader(
            GatewayClient.for_enrollment(enrollment, self.credentials, clock=self.clock), inbox
        )
        self.monitor.on_reachable(self.outbox.nudge)
        self.monitor.on_contact(self.outbox.note_contact)
        self._started: list[str] = []

    def start(self) -> None:
        self.monitor.announce()
        self.outbox.start()
        self._started.append("outbox")
        self.poller.start()
        self._started.append("poller")
        if self.mqtt is not None:
            self.mqtt.start()
            self._started.append("mqtt")
        self.roles.start()
        self._started.append("roles")

    def stop(self) -> None:
        """Stop what was started, newest first; one failing part does not keep others up."""
        parts = {
            "roles": self.roles,
            "mqtt": self.mqtt,
            "poller": self.poller,
            "outbox": self.outbox,
        }
        while self._started:
            name = self._started.pop()
            part = parts[name]
            try:
                if part is not None:
                    part.stop()
            except Exception:
                log.exception("stopping the %s failed", name)
        self.outbox.database.close()
