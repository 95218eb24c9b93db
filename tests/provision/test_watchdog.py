"""The systemd watchdog is fed from the Kivy main loop: the real app, started as systemd would
(``NOTIFY_SOCKET``, ``WATCHDOG_USEC``), says READY=1 and then WATCHDOG=1 regularly; once its
main loop is blocked, the feeds stop while the process lives on, which is what makes systemd
restart a frozen screen (RELIABILITY.md, trap 8)."""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kds_device.adapters import watchdog
from kds_device.adapters.systemd_notify import notify

WATCHDOG_S = 2.0  # WatchdogSec of the test "unit": the app feeds every 1 s
KDS_DEVICE = Path(sys.executable).with_name("kds-device")


class NotifySocket:
    """What systemd's side of $NOTIFY_SOCKET sees: datagrams, each a list of assignments."""

    def __init__(self) -> None:
        self.name = f"@kds-test-notify-{secrets.token_hex(6)}"  # abstract: no path length limit
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.received: list[tuple[float, str]] = []

    def receive(self, timeout: float) -> str | None:
        """The next message, or None when nothing came within ``timeout`` seconds."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        message = data.decode()
        self.received.append((time.monotonic(), message))
        return message

    def wait_for(self, wanted: str, timeout: float, process: subprocess.Popen[bytes]) -> float:
        """Time at which ``wanted`` arrived; fails at the deadline or if the app died."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(min(left, 0.5))
            if message is not None and wanted in message.splitlines():
                return self.received[-1][0]
            if process.poll() is not None:
                pytest.fail(f"the app exited ({process.returncode}) before sending {wanted}")
        pytest.fail(f"no {wanted} within {timeout}s; got {[m for _, m in self.received]}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    sock = NotifySocket()
    yield sock
    sock.close()


@pytest.fixture
def app_under_watchdog(
    notify_socket: NotifySocket, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``kds-device demo`` started the way systemd starts the unit (Type=notify, WatchdogSec)."""
    env = {k: v for k, v in os.environ.items() if k not in ("WATCHDOG_PID", "LISTEN_PID")}
    env.update(
        NOTIFY_SOCKET=notify_socket.name,
        WATCHDOG_USEC=str(int(WATCHDOG_S * 1_000_000)),
        KDS_DEVICE_TEST_HOOKS="1",
        KDS_DEVICE_CONFIG=str(tmp_path / "no-config.toml"),  # never the machine's /etc file
        KIVY_HOME=str(tmp_path / "kivy"),
        KIVY_NO_ARGS="1",
        KIVY_NO_FILELOG="1",
        SDL_AUDIODRIVER="dummy",
    )
    assert env.get("DISPLAY"), "pytest-xvfb should have provided a display"
    log = (tmp_path / "app.log").open("wb")
    process = subprocess.Popen(
        [
            str(KDS_DEVICE),
            "demo",
            "--data-dir",
            str(tmp_path / "data"),
            "--size",
            "800x480",
            "--seed",
            "7",
            "--prefill",
            "3",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    if process.poll() is None:
        process.kill()  # frozen on purpose: SIGTERM would not be handled
    process.wait(timeout=10)
    log.close()


@pytest.mark.ui
@pytest.mark.timeout(180)
def test_frozen_main_loop_stops_the_watchdog(
    app_under_watchdog: subprocess.Popen[bytes], notify_socket: NotifySocket, tmp_path: Path
) -> None:
    app = app_under_watchdog
    try:
        ready_at = notify_socket.wait_for("READY=1", 90, app)

        # Fed regularly, well within WatchdogSec.
        feeds = [notify_socket.wait_for("WATCHDOG=1", 2 * WATCHDOG_S, app) for _ in range(3)]
        assert feeds[0] - ready_at < 2 * WATCHDOG_S
        gaps = [later - earlier for earlier, later in itertools.pairwise(feeds)]
        assert all(gap < WATCHDOG_S for gap in gaps), gaps

        # Block the Kivy main loop (a clock callback that never returns), as a hang would.
        app.send_signal(signal.SIGUSR2)
        notify_socket.wait_for(watchdog.FROZEN_STATUS, 2 * WATCHDOG_S, app)

        # Two whole watchdog periods without a feed (systemd would already have acted) ...
        deadline = time.monotonic() + 2 * WATCHDOG_S
        while (left := deadline - time.monotonic()) > 0:
            message = notify_socket.receive(left)
            assert message is None or "WATCHDOG=1" not in message.splitlines(), (
                "the watchdog was fed while the main loop was blocked: it is not fed from there"
            )
        # ... while the process itself is alive: only the watchdog can notice this hang.
        assert app.poll() is None
    finally:
        log = (tmp_path / "app.log").read_text(errors="replace")
        print(log[-4000:])


class FakeClock:
    """The two Kivy Clock methods start_watchdog uses, recording what was scheduled."""

    def __init__(self) -> None:
        self.intervals: list[tuple[Callable[[float], Any], float]] = []
        self.once: list[tuple[Callable[[float], Any], float]] = []

    def schedule_interval(self, callback: Callable[[float], Any], timeout: float) -> None:
        self.intervals.append((callback, timeout))

    def schedule_once(self, callback: Callable[[float], Any], timeout: float = 0) -> None:
        self.once.append((callback, timeout))


def test_no_watchdog_asked_for_means_no_feeding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv(watchdog.TEST_HOOKS_ENV, raising=False)
    clock = FakeClock()
    assert watchdog.start_watchdog(clock) is None
    assert clock.intervals == []


def test_watchdog_meant_for_another_process_is_not_fed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    clock = FakeClock()
    assert watchdog.start_watchdog(clock) is None
    assert clock.intervals == []


def test_feeds_every_half_watchdog_period(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = NotifySocket()
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", receiver.name)
        monkeypatch.setenv("WATCHDOG_USEC", "30000000")
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
        clock = FakeClock()
        assert watchdog.start_watchdog(clock) == 15.0
        [(callback, period)] = clock.intervals
        assert period == 15.0
        callback(15.0)  # what the clock does every period
        assert receiver.receive(5) == "WATCHDOG=1"
        assert notify("STATUS=still here")
        assert receiver.receive(5) == "STATUS=still here"
    finally:
        receiver.close()
