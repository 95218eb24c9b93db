"""Wake-ups: a commit bumps a generation counter and wakes whoever waits on it (all of them,
or the waiters of the location it names).

Long-polls, the MQTT publisher and the outbox worker wait here instead of polling the
database. A notifier given a bell directory also reaches the other processes of the same
database (every gunicorn worker): :meth:`Notifier.notify` wakes this process's waiters and
rings a :class:`~kds_device.gateway.doorbell.Doorbell` whose datagram wakes theirs. A lost
ring costs latency only: every waiter still re-checks the database periodically.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from kds_device.gateway.doorbell import Doorbell
from kds_device.gateway.storage import Bell

log = logging.getLogger(__name__)


class Notifier:
    """Generation counters under one lock, optionally rung across processes.

    A change may name what changed (``key``: a location): a waiter on that key
    (:meth:`generation_of`, ``wait_past(..., key=)``) is woken by changes of its key and by
    unnamed ones only, so a webhook wakes the long-polls of its own location rather than every
    long-poll of every location (each of which would then query the database). A waiter on
    everything (:attr:`generation`: the publisher, the outbox) is woken by every change."""

    def __init__(
        self,
        bells: Path | Callable[[str, Callable[[str | None], None]], Bell | None] | None = None,
        kind: str = "bell",
    ) -> None:
        """``bells``: the doorbell directory shared by every process of one database (see
        :func:`~kds_device.gateway.doorbell.bell_directory`), or a store's ``bell`` factory;
        None = this process only."""
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # waiters on everything
        self._generation = 0  # every change
        self._unnamed = 0  # changes that name no key (they concern every key)
        self._keyed: dict[str, int] = {}
        self._key_conds: dict[str, threading.Condition] = {}
        self.doorbell: Bell | None = None
        if bells is not None:
            try:
                if isinstance(bells, Path):
                    self.doorbell = Doorbell(bells, self.wake_local, kind)
                else:
                    self.doorbell = bells(kind, self.wake_local)
            except OSError as problem:
                log.warning(
                    "no %s doorbell in %s (%s): other processes' writes are seen at the "
                    "next re-check",
                    kind,
                    bells,
                    problem,
                )

    @property
    def generation(self) -> int:
        """The counter of every change (for waiters on everything)."""
        with self._lock:
            return self._generation

    def generation_of(self, key: str) -> int:
        """The counter of ``key``'s changes and unnamed ones (for ``wait_past(..., key=)``)."""
        with self._lock:
            return self._unnamed + self._keyed.get(key, 0)

    def notify(self, key: str | None = None) -> None:
        """``key`` (or, None, anything) changed: wake its waiters, here and in the other
        processes."""
        self.wake_local(key)
        if self.doorbell is not None:
            self.doorbell.ring(key)

    def wake_local(self, key: str | None = None) -> None:
        """Wake this process's waiters only (what a ring from another process does)."""
        with self._lock:
            self._generation += 1
            self._cond.notify_all()
            if key is None:
                self._unnamed += 1
                for cond in self._key_conds.values():
                    cond.notify_all()
                return
            self._keyed[key] = self._keyed.get(key, 0) + 1
            waiting = self._key_conds.get(key)
            if waiting is not None:
                waiting.notify_all()

    def wait_past(self, generation: int, timeout: float, key: str | None = None) -> bool:
        """Block until the counter (of everything, or of ``key``) moves past ``generation`` or
        ``timeout`` passes.

        Read ``generation`` *before* looking at the database, so a change that lands between
        the look and the wait is not missed. True when woken by a change.
        """
        with self._lock:
            if key is None:
                return self._cond.wait_for(lambda: self._generation != generation, timeout)
            found = self._key_conds.get(key)
            if found is None:
                found = self._key_conds[key] = threading.Condition(self._lock)
            return found.wait_for(
                lambda: self._unnamed + self._keyed.get(key, 0) != generation, timeout
            )

    def close(self) -> None:
        """Stop listening for other processes' rings (local wake-ups keep working)."""
        if self.doorbell is not None:
            self.doorbell.close()
