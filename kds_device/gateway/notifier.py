"""Wake-ups: a commit bumps a generation counter and wakes whoever waits on it.

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
    """A generation counter under a condition variable, optionally rung across processes."""

    def __init__(
        self,
        bells: Path | Callable[[str, Callable[[], None]], Bell | None] | None = None,
        kind: str = "bell",
    ) -> None:
        """``bells``: the doorbell directory shared by every process of one database (see
        :func:`~kds_device.gateway.doorbell.bell_directory`), or a store's ``bell`` factory;
        None = this process only."""
        self._cond = threading.Condition()
        self._generation = 0
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
        with self._cond:
            return self._generation

    def notify(self) -> None:
        """Something changed: wake every waiter, here and in the other processes."""
        self.wake_local()
        if self.doorbell is not None:
            self.doorbell.ring()

    def wake_local(self) -> None:
        """Wake this process's waiters only (what a ring from another process does)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait_past(self, generation: int, timeout: float) -> bool:
        """Block until the counter moves past ``generation`` or ``timeout`` passes.

        Read ``generation`` *before* looking at the database, so a change that lands between
        the look and the wait is not missed. True when woken by a change.
        """
        with self._cond:
            return self._cond.wait_for(lambda: self._generation != generation, timeout=timeout)

    def close(self) -> None:
        """Stop listening for other processes' rings (local wake-ups keep working)."""
        if self.doorbell is not None:
            self.doorbell.close()
