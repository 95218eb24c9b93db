"""The thread that drains the outbox into Deliverect's ``POST /kds/orderStatus/{orderId}``.

One attempt per claim; the outcome decides: delivered, retried later (exponential backoff,
never sooner than ``Retry-After``), or closed (rejected by Deliverect, or too old to matter).

One process delivers at a time (a lease, ``outbox.lease_s``), so statuses reach Deliverect in
the order they became due, through one token. The others stand by; a ring of the outbox
doorbell (a status queued in any process) wakes the holder at once, and a holder that stops
releases the lease and rings, so a standby takes over without waiting for it to expire.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from kds_device.gateway import leases
from kds_device.gateway.config import OutboxConfig
from kds_device.gateway.deliverect_client import OK, REJECTED, SendResult, backoff_s
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.outbox import EXPIRED, OutboxItem
from kds_device.gateway.outbox import REJECTED as CLOSED_REJECTED
from kds_device.gateway.ports import StatusOutbox
from kds_device.gateway.storage import StorageError

log = logging.getLogger(__name__)

LEASE = "outbox-worker"


class StatusSender(Protocol):
    """What the worker needs of :class:`DeliverectClient`."""

    def send_status(self, order_id: str, status: int, reason: str = "") -> SendResult: ...


class OutboxWorker:
    """Delivers due outbox rows; woken by ``notifier`` when a device's status is accepted."""

    def __init__(
        self, outbox: StatusOutbox, sender: StatusSender, notifier: Notifier, config: OutboxConfig
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.notifier = notifier
        self.config = config
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._holding = False
        self._renew_at = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.notifier.wake_local()  # only our own thread needs waking
        if self._thread is not None:
            self._thread.join(timeout)
        if self._holding:
            try:
                leases.release(self.outbox.db, LEASE, self.outbox.holder)
                self._holding = False
                self.notifier.notify()  # a standby in another process takes over now
            except StorageError:
                log.warning("outbox: could not release the worker lease", exc_info=True)

    def run_once(self) -> int:
        """Claim and try every due row once (while holding the lease); how many were tried."""
        if not self._hold_lease():
            return 0
        items = self.outbox.claim()
        for item in items:
            if self._stop.is_set() or not self._hold_lease():
                break
            self._deliver(item)
        return len(items)

    def _hold_lease(self) -> bool:
        now = time.time()
        if self._holding and now < self._renew_at:
            return True
        holder = self.outbox.holder
        if not self._holding and leases.held_by_other(self.outbox.db, LEASE, holder):
            return False  # a read, not a write, on every wake-up of a standby
        holding = leases.acquire(self.outbox.db, LEASE, holder, self.config.lease_s)
        if holding != self._holding:
            log.info("outbox: %s the delivering process", "now" if holding else "no longer")
        self._holding = holding
        self._renew_at = now + self.config.lease_s / 3
        return holding

    def _run(self) -> None:
        log.info("outbox worker started (holder %s)", self.outbox.holder)
        while not self._stop.is_set():
            generation = self.notifier.generation
            due = None
            try:
                if self.run_once():
                    continue
                if self._holding:
                    due = self.outbox.next_due()
            except StorageError:
                log.exception("outbox: database error; trying again shortly")
            # The holder re-reads every poll_s (and renews in time); a standby, woken by every
            # ring, looks at the lease and otherwise checks back once a third of it has passed.
            if self._holding:
                timeout = min(self.config.poll_s, max(0.0, self._renew_at - time.time()))
            else:
                timeout = self.config.lease_s / 3
            if due is not None:
                timeout = min(timeout, max(0.0, due - time.time()))
            self.notifier.wait_past(generation, timeout)
        log.info("outbox worker stopped")

    def _deliver(self, item: OutboxItem) -> None:
        age_h = (time.time() - item.created) / 3600
        if age_h > self.config.give_up_after_h:
            log.error(
                "outbox: giving up on status %d of order %s after %.1f h and %d attempts",
                item.status,
                item.order_id,
                age_h,
                item.attempts,
            )
            self.outbox.close(item, EXPIRED, f"gave up after {age_h:.1f} h")
            return
        try:
            result = self.sender.send_status(item.order_id, item.status, item.reason)
        except Exception as error:  # a bug in the client must not stop the outbox
            log.exception("outbox: sending status %d of %s failed", item.status, item.order_id)
            result = SendResult("retry", None, None, f"client error: {error!r}")
        if result.outcome == OK:
            log.info("outbox: order %s status %d delivered", item.order_id, item.status)
            self.outbox.delivered(item)
        elif result.outcome == REJECTED:
            log.warning(
                "outbox: Deliverect refused status %d of order %s: %s",
                item.status,
                item.order_id,
                result.detail,
            )
            self.outbox.close(item, CLOSED_REJECTED, result.detail)
        else:
            delay = backoff_s(
                item.attempts + 1,
                result.retry_after_s,
                base=self.config.backoff_base_s,
                cap=self.config.backoff_max_s,
            )
            log.warning(
                "outbox: status %d of order %s not delivered (%s); retry in %.1f s",
                item.status,
                item.order_id,
                result.detail,
                delay,
            )
            self.outbox.retry_later(item, delay, result.detail)
