"""Feeding systemd's watchdog from the UI's main loop.

The feed is scheduled on the clock that drives the screen (Kivy's ``Clock``, passed in so this
module stays free of Kivy), so it stops the moment the main loop stops: a frozen UI misses its
feeds and systemd restarts the app. A feed from a worker thread would keep a frozen screen
alive forever (RELIABILITY.md, trap 8).

Test hook: with ``KDS_DEVICE_TEST_HOOKS=1`` in the environment, ``SIGUSR2`` blocks the main
loop for good (after announcing ``STATUS=frozen by test hook``), which is how the test suite
proves that a frozen UI stops the feeds. Without that variable no signal handler is installed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kds_device.adapters.systemd_notify import notify, watchdog_interval_s

log = logging.getLogger(__name__)

TEST_HOOKS_ENV = "KDS_DEVICE_TEST_HOOKS"
FROZEN_STATUS = "STATUS=frozen by test hook"


class MainLoopClock(Protocol):
    """The two methods of ``kivy.clock.Clock`` used here; callbacks get the elapsed time."""

    def schedule_interval(self, callback: Callable[[float], Any], timeout: float) -> Any: ...

    def schedule_once(self, callback: Callable[[float], Any], timeout: float = 0) -> Any: ...


def start_watchdog(clock: MainLoopClock) -> float | None:
    """Feed systemd's watchdog every half ``WatchdogSec`` from ``clock``'s thread.

    Returns the feeding period in seconds, or None when systemd asked for no watchdog (then
    nothing is scheduled). Call it once, from the main thread, when the app starts.
    """
    if os.environ.get(TEST_HOOKS_ENV) == "1":
        _install_freeze_hook(clock)
    interval = watchdog_interval_s()
    if interval is None:
        return None
    clock.schedule_interval(_feed, interval)
    log.info("feeding the systemd watchdog every %.1f s from the main loop", interval)
    return interval


def _feed(_elapsed: float) -> None:
    notify("WATCHDOG=1")


def _install_freeze_hook(clock: MainLoopClock) -> None:
    def on_signal(_signum: int, _frame: object) -> None:
        # Runs in the main thread; the freeze itself is a clock callback, like a real hang.
        clock.schedule_once(_freeze, 0)

    signal.signal(signal.SIGUSR2, on_signal)
    log.warning("test hooks enabled: SIGUSR2 freezes the main loop")


def _freeze(_elapsed: float) -> None:
    notify(FROZEN_STATUS)
    log.warning("main loop frozen by the test hook")
    threading.Event().wait()  # never set: the main loop stops here for good
