"""The screen's heartbeat: every ``heartbeat_s`` a worker thread tells the gateway how this
screen is (``POST /api/v1/heartbeat``): version, role and stations, link, bumps waiting, the
last event applied, whether the clock is right, the CPU temperature.

The state is read through a callable on the worker thread (cheap reads: the link monitor, the
outbox's count, the clock check). A failed post is logged at debug and simply retried at the
next beat: the heartbeat is for the operator, it never holds up the board, the poller or the
bumps, and it keeps no queue (the delays wait, bounded, in the board's ``ShownDelays``).
``kds-gateway devices list`` shows a screen silent for more than a minute as OFFLINE.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from kds_device.adapters.gateway_client import GatewayClient, GatewayRefused, GatewayUnreachable
from kds_device.domain.heartbeat import TEMP_RANGE_C, Heartbeat

log = logging.getLogger(__name__)

THERMAL_ROOT = Path("/sys/class/thermal")


def cpu_temperature(root: Path = THERMAL_ROOT) -> float | None:
    """The CPU's temperature in °C from ``thermal_zone*/temp`` (millidegrees), preferring a
    zone whose ``type`` names the CPU (``cpu-thermal`` on a Raspberry Pi); None where there is
    no readable zone."""
    zones = sorted(root.glob("thermal_zone*"), key=lambda p: _zone_number(p.name))
    readings: list[tuple[bool, float]] = []
    for zone in zones:
        try:
            millis = int((zone / "temp").read_text(encoding="ascii").strip())
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        celsius = millis / 1000.0
        if not TEMP_RANGE_C[0] <= celsius <= TEMP_RANGE_C[1]:
            continue  # a sensor that reads nonsense
        try:
            kind = (zone / "type").read_text(encoding="ascii", errors="replace").lower()
        except OSError:
            kind = ""
        readings.append(("cpu" in kind or "soc" in kind, celsius))
    if not readings:
        return None
    preferred = [c for cpu, c in readings if cpu]
    return round((preferred or [readings[0][1]])[0], 1)


def _zone_number(name: str) -> int:
    digits = name.removeprefix("thermal_zone")
    return int(digits) if digits.isdigit() else 1 << 30


class HeartbeatSender:
    """Posts ``report()`` every ``every_s`` seconds on its own thread until :meth:`stop`."""

    def __init__(
        self,
        client: GatewayClient,
        report: Callable[[], Heartbeat],
        every_s: float = 5.0,
        taken: Callable[[Heartbeat], None] | None = None,
    ) -> None:
        self._client = client
        self._report = report
        #: Told of each heartbeat the gateway took (the delays it carried can be forgotten).
        self._taken = taken or (lambda _beat: None)
        self.every_s = max(0.2, every_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Heartbeats the gateway took, and ones that failed (for logs and tests).
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop beating. A post in flight cannot be cut short by requests: the daemon thread
        then ends when it returns (within the client's timeouts) and sends nothing more."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._client.close()

    def beat_once(self) -> bool:
        """Send one heartbeat now (on the calling thread); True when the gateway took it."""
        try:
            beat = self._report()
            self._client.post_heartbeat(beat.to_json())
        except (GatewayUnreachable, GatewayRefused) as problem:
            self.failed += 1
            log.debug("heartbeat not taken: %s", problem)
            return False
        except Exception:  # a bug in reading the state must not end the heartbeat
            self.failed += 1
            log.exception("heartbeat: unexpected error")
            return False
        self.sent += 1
        self._taken(beat)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat_once()
            self._stop.wait(self.every_s)
