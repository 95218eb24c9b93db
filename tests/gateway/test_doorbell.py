"""The doorbell on its own: real unix datagram sockets, several notifiers in this process.

Each ``Notifier`` given the same directory stands for one gateway process; a ring crosses
sockets exactly as it does between gunicorn workers.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kds_device.gateway.doorbell import MAX_SOCKET_PATH, bell_directory
from kds_device.gateway.notifier import Notifier
from tests.fixtures.mosquitto import wait_until

#: The doorbell is SQLite's wake-up (PostgreSQL's is LISTEN/NOTIFY: test_postgres).
STORES = ("sqlite",)
pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (pytest's own can be too deep for a socket beside it)."""
    with tempfile.TemporaryDirectory(prefix="kds-bell-") as name:
        yield Path(name)


@pytest.fixture
def bells(short_dir: Path) -> Path:
    directory = bell_directory(short_dir / "gateway.db", "journal")
    assert directory == short_dir / "gateway.db.bells" / "journal"
    return directory


@pytest.fixture
def make_notifier(bells: Path) -> Iterator[Callable[[], Notifier]]:
    made: list[Notifier] = []

    def make() -> Notifier:
        notifier = Notifier(bells, "journal")
        assert notifier.doorbell is not None, "the doorbell could not be set up"
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.close()


def sockets_in(directory: Path) -> set[str]:
    return {name for name in os.listdir(directory) if name.endswith(".sock")}


def waiter(notifier: Notifier, timeout: float) -> tuple[threading.Thread, dict[str, float]]:
    """A thread blocked in ``wait_past`` (as a long-poll is), recording when it woke."""
    generation = notifier.generation
    result: dict[str, float] = {}

    def wait() -> None:
        woken = notifier.wait_past(generation, timeout)
        result.update(woken=float(woken), at=time.monotonic())

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread, result


def test_a_notify_wakes_a_waiter_of_another_notifier(
    make_notifier: Callable[[], Notifier],
) -> None:
    ringing, listening = make_notifier(), make_notifier()
    thread, result = waiter(listening, timeout=10.0)
    rung = time.monotonic()
    ringing.notify()
    thread.join(10)
    assert result["woken"], "the other notifier's waiter was not woken"
    assert result["at"] - rung < 1.0  # it waits 10 s without the ring
    assert ringing.generation == 1 and listening.generation == 1


def test_a_ring_is_not_rung_on(bells: Path, make_notifier: Callable[[], Notifier]) -> None:
    """A notifier woken by a ring wakes its own waiters only: rings never echo."""
    ringing, listening = make_notifier(), make_notifier()
    observer = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    observer.bind(os.fspath(bells / "observer.sock"))
    observer.settimeout(5)
    try:
        ringing.notify()
        assert observer.recv(16) == b""  # the one ring of ``ringing``
        wait_until(lambda: listening.generation == 1, 5, "the ring to arrive")
        observer.settimeout(0.3)  # nothing more may come: an echo would arrive within this
        with pytest.raises(TimeoutError):
            observer.recv(16)
        assert ringing.generation == 1
    finally:
        observer.close()


def test_close_removes_the_socket_and_later_notifies_are_local(
    bells: Path, make_notifier: Callable[[], Notifier]
) -> None:
    first, second = make_notifier(), make_notifier()
    assert first.doorbell is not None and second.doorbell is not None
    assert sockets_in(bells) == {first.doorbell.path.name, second.doorbell.path.name}
    first.close()
    assert sockets_in(bells) == {second.doorbell.path.name}
    first.close()  # idempotent
    thread, result = waiter(first, timeout=10.0)
    first.notify()  # still wakes its own waiters; rings nobody
    thread.join(10)
    assert result["woken"]
    second.notify()  # ringing a closed peer is not an error (its file is gone)
    assert sockets_in(bells) == {second.doorbell.path.name}
    second.close()  # the last one out removes the directories
    assert not bells.exists() and not bells.parent.exists()
    third = make_notifier()  # and the next one re-creates them
    assert third.doorbell is not None and third.doorbell.path.parent == bells


def test_a_dead_socket_is_removed_and_does_not_stop_the_others(
    bells: Path, make_notifier: Callable[[], Notifier]
) -> None:
    ringing, listening = make_notifier(), make_notifier()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(os.fspath(bells / "4242-deadbeef.sock"))
    dead.close()  # the file stays, nobody listens: what kill -9 leaves behind
    stray = bells / "notes.txt"  # not a bell: left alone
    stray.write_text("x")
    assert "4242-deadbeef.sock" in sockets_in(bells)
    thread, result = waiter(listening, timeout=10.0)
    assert ringing.doorbell is not None
    assert ringing.doorbell.ring() == 1  # the dead one refused and was unlinked
    thread.join(10)
    assert result["woken"]
    assert "4242-deadbeef.sock" not in sockets_in(bells)
    assert stray.exists()


def test_a_full_queue_costs_nothing(make_notifier: Callable[[], Notifier]) -> None:
    """Far more rings than a datagram queue holds: none blocks, the waiter still wakes."""
    ringing, listening = make_notifier(), make_notifier()
    started = time.monotonic()
    for _ in range(5000):
        ringing.notify()
    assert time.monotonic() - started < 5.0
    wait_until(lambda: listening.generation >= 1, 5, "the rings to arrive")
    generation = listening.generation
    thread, result = waiter(listening, timeout=10.0)
    if listening.generation == generation:  # the burst's wake-ups may still be draining
        ringing.notify()
    thread.join(10)
    assert result["woken"]


def test_without_a_usable_directory_the_notifier_still_works_locally(short_dir: Path) -> None:
    blocker = short_dir / "gateway.db.bells"
    blocker.write_text("a file where the directory should be")
    notifier = Notifier(bell_directory(short_dir / "gateway.db", "journal"), "journal")
    try:
        assert notifier.doorbell is None
        thread, result = waiter(notifier, timeout=10.0)
        notifier.notify()
        thread.join(10)
        assert result["woken"]
    finally:
        notifier.close()


def test_the_directory_sits_beside_the_database_unless_the_path_is_too_long(
    short_dir: Path, tmp_path: Path
) -> None:
    short = bell_directory(short_dir / "gateway.db", "outbox")
    assert short == short_dir / "gateway.db.bells" / "outbox"
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "gateway.db"
    moved = bell_directory(deep, "journal")
    assert not str(moved).startswith(str(tmp_path))
    assert moved == bell_directory(deep, "journal")  # every process finds the same one
    assert moved != bell_directory(tmp_path / ("d" * 60) / ("f" * 60) / "gateway.db", "journal")
    deep.parent.mkdir(parents=True)
    notifier = Notifier(moved, "journal")
    try:
        assert notifier.doorbell is not None
        assert len(os.fsencode(notifier.doorbell.path)) <= MAX_SOCKET_PATH
    finally:
        notifier.close()
    assert not moved.parent.exists()  # the last one out tidies the temporary directory
