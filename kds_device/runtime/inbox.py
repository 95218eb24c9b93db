"""The one door through which other threads hand messages to the main loop.

Worker threads (paho's network thread, the HTTP poller, gpiozero callbacks, the demo feed)
call :meth:`Inbox.post` with an immutable message. The first post after a drain calls
``wake`` once (in the app: a ``Clock.create_trigger``), so a burst collapses into one pass
on the main thread, where :meth:`Inbox.drain` hands everything over in order.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

Message = TypeVar("Message")


class Inbox(Generic[Message]):
    def __init__(self, wake: Callable[[], None] = lambda: None) -> None:
        self._queue: deque[Message] = deque()
        self._lock = threading.Lock()
        self._wake = wake
        self._armed = True

    def set_wake(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._wake = wake
            pending = bool(self._queue)
        if pending:
            wake()

    def post(self, message: Message) -> None:
        """Thread-safe; never blocks on the main loop."""
        with self._lock:
            self._queue.append(message)
            fire, self._armed = self._armed, False
            wake = self._wake
        if fire:
            wake()

    def drain(self) -> list[Message]:
        """All messages posted so far, oldest first (main thread only)."""
        with self._lock:
            items = list(self._queue)
            self._queue.clear()
            self._armed = True
        return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)
