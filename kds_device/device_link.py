"""Everything between the gateway and the inbox, wired once: the link monitor, the HTTP event
poller, the MQTT feed (when the enrollment names a broker), the bump outbox and the heartbeat.

Used by ``kds-device run`` (:mod:`kds_device.appliance`) and by the demo chain; no Kivy here,
so the tests drive the real device side against a real gateway without a screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from kds_device import __version__
from kds_device.adapters.clock_sync import ClockCheck
from kds_device.adapters.credentials import Credentials
from kds_device.adapters.device_outbox import DeviceOutbox, OutboxDatabase, outbox_path
from kds_device.adapters.enrollment import Enrollment
from kds_device.adapters.event_poller import EventPoller, FeedCursor
from kds_device.adapters.gateway_client import GatewayClient
from kds_device.adapters.heartbeat import THERMAL_ROOT, HeartbeatSender, cpu_temperature
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.adapters.mqtt_feed import MqttFeed
from kds_device.adapters.role_reader import RoleReader
from kds_device.adapters.store import BoardStore
from kds_device.config import ConnectionConfig
from kds_device.domain.heartbeat import Heartbeat
from kds_device.domain.roles import Role
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Link, Message
from kds_device.runtime.shown_delays import ShownDelays

log = logging.getLogger(__name__)

#: How long the heartbeat waits for the gateway's answer.
HEARTBEAT_READ_S = 5.0


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


class _Stoppable(Protocol):
    def stop(self) -> None: ...


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
        thermal_root: Path = THERMAL_ROOT,
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
        self._thermal_root = thermal_root
        #: What the board has applied and shows (see :meth:`report_board`); until the board
        #: is wired, what the feeds handed over and the role the gateway named.
        self._applied_seq: Callable[[], int] = lambda: self.cursor.value
        self._shown_role: Callable[[], Role] = self._known_role
        self._shown: ShownDelays | None = None
        self.heartbeat = HeartbeatSender(
            # a short read timeout: a beat is small, and a stuck one only delays the next
            GatewayClient.for_enrollment(
                enrollment, self.credentials, clock=self.clock, read_timeout_s=HEARTBEAT_READ_S
            ),
            self.heartbeat_now,
            connection.heartbeat_s,
            taken=self._beat_taken,
        )
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
        self.heartbeat.start()
        self._started.append("heartbeat")

    def report_board(
        self,
        applied_seq: Callable[[], int],
        role: Callable[[], Role],
        shown: ShownDelays | None = None,
    ) -> None:
        """Let the heartbeat report the board's own last applied event and role, and the
        order-to-screen delays it noted (called by the app once the board exists; all are read
        from the heartbeat's thread)."""
        self._applied_seq = applied_seq
        self._shown_role = role
        self._shown = shown

    def heartbeat_now(self) -> Heartbeat:
        """This screen's state for the gateway (read on the heartbeat's thread)."""
        role = self._shown_role()
        link = {Link.LIVE_MQTT: "mqtt", Link.LIVE_HTTP: "http"}.get(self.monitor.link, "offline")
        synced = self.clock.synced(time.monotonic())
        shown: tuple[tuple[int, int], ...] = ()
        if self._shown is not None:
            if synced is True:
                shown = self._shown.pending()
            elif synced is False and self._shown.discard():  # a wrong clock measures nothing
                log.info("order-to-screen delays dropped: the clock is not right")
            # None (nothing can tell yet): they wait, bounded, for a later beat
        return Heartbeat(
            version=__version__,
            role=role.kind.value,
            stations=tuple(sorted(role.stations)),
            link=link,
            bumps_waiting=self.outbox.pending,
            last_seq=max(0, self._applied_seq()),
            clock_synced=synced,
            cpu_temp_c=cpu_temperature(self._thermal_root),
            shown_ms=shown,
        )

    def _beat_taken(self, beat: Heartbeat) -> None:
        if self._shown is not None and beat.shown_ms:
            self._shown.sent(beat.shown_ms)

    def _known_role(self) -> Role:
        if self.roles.role is not None:
            return self.roles.role
        if self.enrollment.role is not None:
            try:
                return Role.from_json(self.enrollment.role)
            except ValueError:
                pass
        return Role()

    def stop(self) -> None:
        """Stop what was started, newest first; one failing part does not keep others up."""
        parts: dict[str, _Stoppable | None] = {
            "heartbeat": self.heartbeat,
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
