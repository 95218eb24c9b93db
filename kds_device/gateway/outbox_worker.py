"""The thread that drains the outbox into Deliverect's ``POST /kds/orderStatus/{orderId}``.

One attempt per claim; the outcome decides: delivered, retried later (exponential backoff,
never sooner than ``Retry-After``), or closed (rejected by Deliverect, or too old to matter).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Protocol

from kds_device.gateway.config import OutboxConfig
from kds_device.gateway.deliverect_client import OK, REJECTED, SendResult, backoff_s
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.outbox import EXPIRED, Outbox, OutboxItem
from kds_device.gateway.outbox import REJECTED as CLOSED_REJECTED

log = logging.getLogger(__name__)


class StatusSender(Protocol):
    """What the worker needs of :class:`DeliverectClient`."""

    def send_status(self, order_id: str, status: int, reason: str = "") -> SendResult: ...


class OutboxWorker:
    """Delivers due outbox rows; woken by ``notifier`` when a device's status is accepted."""

    def __init__(
        self, outbox: Outbox, sender: StatusSender, notifier: Notifier, config: OutboxConfig
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.notifier = notifier
        self.config = config
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.notifier.wake_local()  # only our own thread needs waking
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Claim and try every due row once; returns how many were tried."""
        items = self.outbox.claim()
        for item in items:
            if self._stop.is_set():
                break
            self._deliver(item)
        return len(items)

    def _run(self) -> None:
        log.info("outbox worker started (holder %s)", self.outbox.holder)
        while not self._stop.is_set():
            generation = self.notifier.generation
            try:
                if self.run_once():
                    continue
                due = self.outbox.next_due()
            except sqlite3.Error:
                log.exception("outbox: database error; trying again shortly")
                due = None
            timeout = self.config.poll_s
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
