"""Wake-ups name the location written: a long-poll waits for its own location's changes, so
one webhook wakes that location's screens, not every long-poll of every location.

Two notifiers on one database stand for two gateway processes (or, on PostgreSQL, hosts):
their bells are the store's own (SQLite's doorbell, PostgreSQL's LISTEN/NOTIFY).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from kds_device.gateway.notifier import Notifier
from kds_device.gateway.pg_notify import NOTIFY_PAYLOAD_BYTES
from kds_device.gateway.storage import Store

pytestmark = pytest.mark.timeout(60)

#: Long enough for a ring to cross processes on a loaded machine; a wrong wake-up comes
#: sooner than this (it is the same ring).
QUIET_S = 1.0


@pytest.fixture
def two(open_db: Callable[[], Store]) -> Iterator[tuple[Notifier, Notifier]]:
    """Two notifiers of the journal on one database, as two processes."""
    here, there = Notifier(open_db().bell, "journal"), Notifier(open_db().bell, "journal")
    try:
        yield here, there
    finally:
        here.close()
        there.close()


def woken(notifier: Notifier, key: str | None, ring: Callable[[], None], within: float) -> bool:
    """Does ``ring()`` wake a waiter of ``key`` (None: of everything) within ``within``?"""
    generation = notifier.generation if key is None else notifier.generation_of(key)
    result: list[bool] = []
    waiting = threading.Event()

    def wait() -> None:
        waiting.set()
        result.append(notifier.wait_past(generation, within, key))

    thread = threading.Thread(target=wait)
    thread.start()
    waiting.wait(5)
    ring()
    thread.join(within + 10)
    return result == [True]


def test_a_waiter_of_a_location_sleeps_through_other_locations_here(
    two: tuple[Notifier, Notifier],
) -> None:
    here, _ = two
    assert not woken(here, "loc-a", lambda: here.notify("loc-b"), QUIET_S)
    assert woken(here, "loc-a", lambda: here.notify("loc-a"), 10)
    assert woken(here, "loc-a", lambda: here.notify(None), 10)  # an unnamed change: everyone
    assert woken(here, None, lambda: here.notify("loc-b"), 10)  # the publisher hears all


def test_a_ring_from_another_process_wakes_the_waiters_of_its_location(
    two: tuple[Notifier, Notifier], store: str
) -> None:
    here, there = two
    started = time.monotonic()
    assert woken(there, "loc-a", lambda: here.notify("loc-a"), 10)
    assert time.monotonic() - started < 5
    assert woken(there, None, lambda: here.notify("loc-b"), 10)
    assert woken(there, "loc-a", lambda: here.notify(None), 10)
    other = woken(there, "loc-a", lambda: here.notify("loc-b"), QUIET_S)
    # PostgreSQL's NOTIFY carries the location; SQLite's doorbell (one site, a few screens)
    # carries nothing and wakes every waiter.
    assert other is (store == "sqlite")


@pytest.mark.stores("postgresql")
def test_many_locations_rung_at_once_each_reach_the_other_host(
    two: tuple[Notifier, Notifier],
) -> None:
    """More names than one NOTIFY payload holds go out in several: none is dropped."""
    here, there = two
    keys = [f"{i:024x}" for i in range(2 * NOTIFY_PAYLOAD_BYTES // 25 + 7)]
    generations = {key: there.generation_of(key) for key in keys}
    for key in keys:
        here.notify(key)
    deadline = time.monotonic() + 10
    for key in keys:
        left = max(0.0, deadline - time.monotonic())
        assert there.wait_past(generations[key], left, key), f"{key} never reached the other"
