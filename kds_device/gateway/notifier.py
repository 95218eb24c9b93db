"""In-process wake-ups: a commit bumps a generation counter and wakes whoever waits on it.

Long-polls, the MQTT publisher and the outbox worker wait here instead of polling the
database; writes from *other* processes are noticed by the waiter's periodic re-check.
"""

from __future__ import annotations

import threading


class Notifier:
    """A generation counter under a condition variable."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation

    def notify(self) -> None:
        """Something changed: wake every waiter."""
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
