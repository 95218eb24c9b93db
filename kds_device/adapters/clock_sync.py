"""Is this screen's wall clock right? Checked against two real things:

* the gateway's HTTP ``Date`` header, compared with the local clock when the answer arrives
  (every poll and every bump gives one): a clock more than ``tolerance_s`` off is named, with
  how far and which way ("CLOCK 11 h SLOW");
* without a recent answer from the gateway, systemd's time synchronisation state:
  ``/run/systemd/timesync/synchronized`` (systemd-timesyncd touches it once NTP has set the
  clock), else ``timedatectl show -p NTPSynchronized --value`` (any NTP client, on a worker
  thread: it talks to D-Bus and must never stall the board).

Promises are wall-clock times, so a wrong clock moves every "due in"; ages do not (they run
on the monotonic clock). The board says so in its status bar until the clock is right, and
meanwhile reads the time through :meth:`ClockCheck.now`: the local clock corrected by the
gateway's, so promises and the age of an order that waited at the gateway come out right even
on a Pi whose clock is minutes or hours off. The correction is dropped as soon as the local
clock is stepped (NTP fixing it) and renewed by the next answer.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from kds_device.domain.clock import Instant

log = logging.getLogger(__name__)

SYNCED_FLAG = Path("/run/systemd/timesync/synchronized")


def timesync_synchronized(flag: Path = SYNCED_FLAG) -> bool | None:
    """True/False from systemd; None when this machine cannot tell (no systemd)."""
    if flag.exists():
        return True
    timedatectl = shutil.which("timedatectl")
    if timedatectl is None:
        return None
    try:
        result = subprocess.run(
            [timedatectl, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    answer = result.stdout.strip()
    if result.returncode != 0 or answer not in ("yes", "no"):
        return None
    return answer == "yes"


def describe_offset(offset_s: float) -> str:
    """``CLOCK 11 h SLOW``, ``CLOCK 5 min FAST``: local minus true, in the bar's words."""
    size = abs(offset_s)
    amount = f"{round(size / 3600)} h" if size >= 5400 else f"{max(1, round(size / 60))} min"
    return f"CLOCK {amount} {'FAST' if offset_s > 0 else 'SLOW'}"


class ClockCheck:
    """Thread-safe. Gateway clients call :meth:`note_date` from their threads; the board calls
    :meth:`note` once a second on the main thread (cheap: systemd is asked on a worker thread
    at most every ``probe_every_s``)."""

    def __init__(
        self,
        timesync: Callable[[], bool | None] = timesync_synchronized,
        tolerance_s: float = 30.0,
        fresh_s: float = 600.0,
        probe_every_s: float = 60.0,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timesync = timesync
        self.tolerance_s = tolerance_s
        self.fresh_s = fresh_s
        self.probe_every_s = probe_every_s
        self._mono = mono
        self._lock = threading.Lock()
        # (local - gateway seconds, mono when seen, local wall - mono then: a step changes it)
        self._offset: tuple[float, float, float] | None = None
        self._synced: bool | None = None
        self._probed_at: float | None = None
        self._probing = False

    def note_date(self, header: str | None, local: datetime, mono: float) -> None:
        """The ``Date`` of an HTTP answer from the gateway, and the local clock on its arrival."""
        if not header:
            return
        try:
            remote = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return
        if remote.tzinfo is None:
            remote = remote.replace(tzinfo=UTC)
        # Date has whole seconds and is written before the answer travels: allow for both
        offset = (local - remote).total_seconds() - 0.5
        with self._lock:
            self._offset = (offset, mono, local.timestamp() - mono)

    def offset_s(self, now_mono: float) -> float | None:
        """Local clock minus the gateway's, when a fresh answer told us."""
        with self._lock:
            if self._offset is None or now_mono - self._offset[1] > self.fresh_s:
                return None
            return self._offset[0]

    def now(self) -> Instant:
        """The time the board should use: the system clock, corrected by the gateway's while
        the two disagree by more than ``tolerance_s`` (and the local clock was not stepped
        since they were compared)."""
        return self.corrected(Instant(datetime.now(UTC), self._mono()))

    def corrected(self, local: Instant) -> Instant:
        with self._lock:
            offset = self._offset
        if offset is None or abs(offset[0]) <= self.tolerance_s:
            return local
        if abs((local.wall.timestamp() - local.mono) - offset[2]) > self.tolerance_s:
            return local  # the local clock was stepped since: the correction no longer holds
        return Instant(local.wall - timedelta(seconds=offset[0]), local.mono)

    def note(self, now: Instant) -> str:
        """What the status bar says about the clock: "" when right (or when nothing can tell)."""
        offset = self.offset_s(now.mono)
        if offset is not None:
            return describe_offset(offset) if abs(offset) > self.tolerance_s else ""
        self._maybe_probe()
        with self._lock:
            synced = self._synced
        return "CLOCK NOT SYNCED" if synced is False else ""

    def synced(self, now_mono: float) -> bool | None:
        """Is the clock right? By the gateway's last fresh answer, else by systemd's state;
        None when nothing can tell (for the heartbeat)."""
        offset = self.offset_s(now_mono)
        if offset is not None:
            return abs(offset) <= self.tolerance_s
        self._maybe_probe()
        with self._lock:
            return self._synced

    def _maybe_probe(self) -> None:
        now = self._mono()
        with self._lock:
            due = self._probed_at is None or now - self._probed_at >= self.probe_every_s
            if not due or self._probing:
                return
            self._probing, self._probed_at = True, now
        threading.Thread(target=self._probe, name="clock-probe", daemon=True).start()

    def _probe(self) -> None:
        try:
            synced = self._timesync()
        except Exception:
            log.exception("time synchronisation state unreadable")
            synced = None
        with self._lock:
            self._synced, self._probing = synced, False
