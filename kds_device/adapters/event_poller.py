"""The HTTP feed: a worker thread that reads the gateway's journal (``GET /api/v1/events``).

Always on. While the MQTT feed is down (or not configured) it long-polls, so orders still
arrive within a round trip. While MQTT is live it only checks in every few seconds with
``wait=0``: that keeps the link state honest (an offline banner within seconds when the gateway
goes away, even though the broker is still up) and picks up anything the broker dropped.
A gap seen on MQTT, an MQTT reconnect or a start triggers an immediate catch-up fetch.

The worker only posts to the inbox (:class:`EventsArrived`) and reports to the
:class:`LinkMonitor`; it never touches the board.
"""

from __future__ import annotations

import logging
import threading
import time

from kds_device.adapters.backoff import Backoff
from kds_device.adapters.credentials import ROTATED
from kds_device.adapters.gateway_client import (
    EventBatch,
    GatewayClient,
    GatewayRefused,
    GatewayUnreachable,
)
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import EventsArrived, Message

log = logging.getLogger(__name__)


class FeedCursor:
    """The highest ``seq`` up to which this device has been handed every event.

    Both feeds move it: an HTTP answer is the truth (holes in it are pruned events, so the
    cursor jumps to its newest seq); an MQTT message moves it only when it is the next one.
    An MQTT message further ahead is remembered and reported as a gap, so the poller fetches
    what lies between. The app keeps its own "last applied" seq; this cursor only tells the
    poller where to ask from.
    """

    def __init__(self, start: int = 0) -> None:
        self._lock = threading.Lock()
        self._mark = max(0, start)
        self._ahead: set[int] = set()

    @property
    def value(self) -> int:
        with self._lock:
            return self._mark

    @property
    def has_gap(self) -> bool:
        with self._lock:
            return bool(self._ahead)

    def note_mqtt(self, seq: int) -> bool:
        """Record one MQTT event; True when it reveals a gap (a catch-up is needed)."""
        with self._lock:
            if seq <= self._mark:
                return False
            if seq == self._mark + 1:
                self._mark = seq
                self._advance()
                return False
            self._ahead.add(seq)
            return True

    def note_http(self, batch: EventBatch) -> None:
        """Record an HTTP answer (fetched with ``after`` <= the cursor)."""
        with self._lock:
            if batch.events:
                self._mark = max(self._mark, batch.events[-1].seq)
            elif batch.skipped and batch.last_seq > self._mark:
                self._mark = batch.last_seq  # only junk was there: do not fetch it forever
            self._ahead = {seq for seq in self._ahead if seq > self._mark}
            self._advance()

    def _advance(self) -> None:
        while self._mark + 1 in self._ahead:
            self._ahead.remove(self._mark + 1)
            self._mark += 1


class EventPoller:
    """Reads the journal on its own thread; :meth:`stop` returns within ``stop_timeout_s``."""

    def __init__(
        self,
        client: GatewayClient,
        inbox: Inbox[Message],
        monitor: LinkMonitor,
        cursor: FeedCursor,
        wait_s: float = 25.0,
        check_interval_s: float = 3.0,
        limit: int = 500,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._inbox = inbox
        self._monitor = monitor
        self.cursor = cursor
        self._wait_s = wait_s
        self._check_interval_s = check_interval_s
        self._limit = limit
        self._backoff = backoff or Backoff(initial_s=0.5, maximum_s=10.0)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._journal_behind_logged = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="event-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop asking. A long-poll already in flight cannot be cut short by requests; the
        daemon thread then ends when it returns (and posts nothing more), closing the client."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if not self._thread.is_alive():
                self._client.close()
        # else: the thread closes the client when that long-poll returns (see _run)

    def request_catch_up(self) -> None:
        """Fetch from the cursor now (any thread: the MQTT feed on a gap or a reconnect)."""
        self._wake.set()

    # ---- the worker ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._poll()
        finally:
            if self._stop.is_set():  # a long-poll outlived stop(): its connection goes now
                self._client.close()

    def _poll(self) -> None:
        confirmed = False  # a quick first answer (at start, after a failure) shows "live" at once
        while not self._stop.is_set():
            urgent = self._wake.is_set() or self.cursor.has_gap or not confirmed
            self._wake.clear()
            checking = self._monitor.mqtt_live
            wait = 0.0 if (checking or urgent) else self._wait_s
            started = time.monotonic()
            after = self.cursor.value
            try:
                batch = self._client.fetch_events(after, wait, self._limit)
            except GatewayRefused as error:
                confirmed = False
                removed = error.status == 401 and error.error != ROTATED
                self._failed(self._refusal(error), error.retry_after, removed)
                continue
            except GatewayUnreachable as error:
                confirmed = False
                self._failed(error.detail, error.retry_after)
                continue
            except Exception:  # a bug must not silence the feed: log, count as a failure
                confirmed = False
                log.exception("event poller: unexpected error")
                self._failed("internal error (see log)", None)
                continue
            if self._stop.is_set():
                break
            confirmed = True
            self._backoff.reset()
            self._monitor.http_ok()
            self._deliver(batch, after)
            if batch.events and batch.last_seq > self.cursor.value:
                continue  # a page of a longer backlog: fetch the next one at once
            if self.cursor.has_gap:
                continue
            if checking:
                self._pause(self._check_interval_s)
            elif not batch.events and wait and time.monotonic() - started < min(wait, 1.0):
                self._pause(1.0)  # the gateway did not hold: do not spin

    def _deliver(self, batch: EventBatch, after: int) -> None:
        through = batch.events[-1].seq if batch.events else None
        if through is None and batch.skipped and batch.last_seq > after:
            through = batch.last_seq  # only junk was there: nothing to wait for below it
        if through is not None:
            self._inbox.post(EventsArrived(batch.events, "http", through=through))
        if batch.last_seq < after and not self._journal_behind_logged:
            self._journal_behind_logged = True
            log.error(
                "the gateway's journal ends at seq %d but this device has seen %d: "
                "was the gateway reset? Enroll again and clear the board",
                batch.last_seq,
                after,
            )
        self.cursor.note_http(batch)

    def _failed(self, detail: str, retry_after: float | None, removed: bool = False) -> None:
        if self._stop.is_set():
            return
        log.debug("event poller: %s", detail)
        self._monitor.http_failed(detail, removed)
        self._pause(self._backoff.next_delay(retry_after), interruptible=False)

    def _pause(self, seconds: float, interruptible: bool = True) -> None:
        """Sleep until ``seconds`` pass, stop, or (if ``interruptible``) a catch-up request."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if interruptible:
                if self._wake.wait(left):
                    return
            else:
                self._stop.wait(left)

    @staticmethod
    def _refusal(error: GatewayRefused) -> str:
        if error.status == 401 and error.error != ROTATED:
            return "the gateway no longer knows this screen: enroll it again"
        if error.status in (401, 403):
            return f"the gateway refused this device's credentials: {error.detail}"
        return f"gateway refused the events request: {error}"
