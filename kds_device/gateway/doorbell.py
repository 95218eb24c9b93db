"""Cross-process wake-ups: one unix datagram socket per process in a directory per database.

Every gateway process (each gunicorn worker) binds ``<dir>/<pid>-<random>.sock`` and runs a
daemon thread that waits on it. :meth:`Doorbell.ring` sends one empty, non-blocking datagram
to every *other* socket in the directory; the receiving thread then wakes its process's
waiters (it never rings on). So a webhook journaled by one worker wakes the long-polls, the
MQTT publisher and the outbox worker of the others at once instead of at their next periodic
re-check.

A ring is only a hint: a full receive queue (``EAGAIN``: the peer has a datagram pending, so it
wakes anyway), a lost datagram or a missing bell costs latency, never an event, because every
waiter keeps its periodic re-check of the database. A socket whose process died (``kill -9``
leaves the file) refuses datagrams (``ECONNREFUSED``) and is unlinked by whoever rings it.

The directory is ``<db>.bells/<kind>`` (``kind``: ``journal``, ``outbox``). A socket path must
fit ``sun_path`` (107 bytes); when a deep database path would not, the directory moves to
``<tempdir>/kds-bells-<hash of the database's absolute path>/<kind>`` instead, so every process
of that database still meets in the same place.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from tempfile import gettempdir

log = logging.getLogger(__name__)

#: ``sun_path`` holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107
#: The longest name a bell gets: a 7-digit pid (Linux's pid_max), a dash, 8 hex, ".sock".
_MAX_NAME = len("4194304-0123abcd.sock")
SUFFIX = ".sock"


def bell_directory(database: Path, kind: str) -> Path:
    """Where the bells of ``kind`` for ``database`` live (the same answer in every process)."""
    beside = Path(os.path.abspath(database)).with_name(Path(database).name + ".bells") / kind
    if len(os.fsencode(beside)) + 1 + _MAX_NAME <= MAX_SOCKET_PATH:
        return beside
    digest = hashlib.sha256(os.fsencode(os.path.abspath(database))).hexdigest()[:16]
    return Path(gettempdir()) / f"kds-bells-{digest}" / kind


def _own_directory(path: Path) -> None:
    """Create ``path`` (and its parent) private to this user; refuse one someone else owns."""
    for directory in (path.parent, path):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise PermissionError(f"{directory} is not a directory of this user")


class Doorbell:
    """This process's bell: a bound socket, its listening thread, and a socket to ring with."""

    def __init__(
        self, directory: Path, on_ring: Callable[[str | None], None], kind: str = "bell"
    ) -> None:
        """Bind and start listening; raises ``OSError`` when the directory cannot be used."""
        self.directory = directory
        self.path = directory / f"{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        self._on_ring = on_ring
        self._pid = os.getpid()
        self._closed = threading.Event()
        self._inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._outbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._outbox.setblocking(False)
            self._bind()
        except OSError:
            self._inbox.close()
            self._outbox.close()
            raise
        self._thread = threading.Thread(target=self._listen, name=f"doorbell-{kind}", daemon=True)
        self._thread.start()

    def _bind(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            _own_directory(self.directory)
            try:
                self._inbox.bind(os.fspath(self.path))
                return
            except FileNotFoundError:
                # The last process of this database just removed the empty directory.
                if attempt == attempts - 1:
                    raise

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def ring(self, key: str | None = None) -> int:
        """One datagram to every other bell in the directory; returns how many were sent.

        It names no key (``key`` is ignored): a site's few processes and screens all wake."""
        if self._closed.is_set() or os.getpid() != self._pid:
            return 0  # closed, or a forked child that inherited this object without its thread
        try:
            names = os.listdir(self.directory)
        except OSError:
            return 0
        own = self.path.name
        sent = 0
        for name in names:
            if name == own or not name.endswith(SUFFIX):
                continue
            if self._send(self.directory / name):
                sent += 1
        return sent

    def _send(self, peer: Path) -> bool:
        try:
            self._outbox.sendto(b"", os.fspath(peer))
        except BlockingIOError:
            return False  # its queue is full: it has a datagram pending, so it wakes anyway
        except ConnectionRefusedError:
            # A socket file nobody listens on: its process died without closing. Tidy up.
            try:
                peer.unlink()
                log.info("doorbell: removed %s (its process is gone)", peer)
            except FileNotFoundError:
                pass
            except OSError as problem:
                log.debug("doorbell: cannot remove %s: %s", peer, problem)
            return False
        except FileNotFoundError:
            return False  # closed between the listing and the send
        except OSError as problem:
            if problem.errno not in (errno.EPERM, errno.EACCES, errno.ENOTSOCK):
                log.debug("doorbell: ringing %s failed: %s", peer, problem)
            return False
        return True

    def _listen(self) -> None:
        while not self._closed.is_set():
            try:
                self._inbox.recv(16)
                # Drain what else is queued: a burst of rings is one wake-up.
                while True:
                    self._inbox.recv(16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass
            except OSError:
                if self._closed.is_set():
                    return
                log.warning("doorbell: receiving failed; relying on re-checks", exc_info=True)
                return
            if not self._closed.is_set():
                self._on_ring(None)

    def close(self, timeout: float = 2.0) -> None:
        """Stop listening, remove the socket file. Idempotent."""
        if self._closed.is_set():
            return
        if os.getpid() == self._pid:
            self.ring()  # also unlinks sockets of dead processes, so the directory can go
        self._closed.set()
        if os.getpid() != self._pid:
            return  # a forked child: the socket and its thread belong to the parent
        # Wake the listening thread with a datagram to itself (EAGAIN: it has one pending).
        with contextlib.suppress(OSError):
            self._outbox.sendto(b"", os.fspath(self.path))
        self._thread.join(timeout)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._inbox.close()
        self._outbox.close()
        # The last one out removes the (then empty) directories: nothing is left in the
        # temporary directory. A process starting meanwhile re-creates them (see _bind).
        for directory in (self.directory, self.directory.parent):
            try:
                directory.rmdir()
            except OSError:
                break  # not empty (others still listen), or already gone
