"""systemd's notify protocol (READY=1, WATCHDOG=1, STATUS=...): one datagram to
``$NOTIFY_SOCKET``. A dozen lines of stdlib; the C binding (python-systemd) needs build
headers on the Pi for no gain."""

from __future__ import annotations

import os
import socket


def notify(message: str) -> bool:
    """Send ``message``; False (and nothing done) when not started by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(message.encode())
        except OSError:
            return False
    return True


def watchdog_interval_s() -> float | None:
    """Half of systemd's ``WatchdogSec`` (the recommended feeding period), or None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec.isdigit() or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
