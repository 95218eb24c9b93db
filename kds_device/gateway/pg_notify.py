"""Wake-ups between gateway processes and hosts on one PostgreSQL: ``LISTEN``/``NOTIFY``."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

import psycopg

log = logging.getLogger(__name__)

#: The names one NOTIFY carries at most (bytes; PostgreSQL's payload limit is 8,000).
NOTIFY_PAYLOAD_BYTES = 7000
#: How long a bell waits before reconnecting its LISTEN connection after losing it.
RECONNECT_S = 1.0


class NotifyBell:
    """Wake-ups through ``LISTEN``/``NOTIFY`` on ``channel``: every gateway process on every
    host listening there is woken by a ring (its own rings are ignored).

    A ring names what changed (a location) or nothing (everything); the payload is this bell's
    token, then the names rung since the last notification (``token:a,b``), so a listener wakes
    only the waiters of those. One thread listens on a connection of its own (reconnecting when
    it is lost, and waking all its waiters then, since rings may have been missed); rings are
    sent by a second thread so a ring never blocks a request, and rings that pile up while one
    is sent go out together. A lost ring costs latency only: every waiter re-checks the
    database periodically."""

    def __init__(self, url: str, channel: str, wake: Callable[[str | None], None]) -> None:
        self.url = url
        self.channel = channel
        self._wake = wake
        self._token = secrets.token_hex(8)
        self._closed = threading.Event()
        self._pending = threading.Event()
        self._keys_lock = threading.Lock()
        self._keys: set[str] = set()
        self._everything = False
        self._listening = threading.Event()
        self.sent = 0
        self._listener = threading.Thread(
            target=self._listen, name=f"{channel}-listen", daemon=True
        )
        self._sender = threading.Thread(target=self._send, name=f"{channel}-ring", daemon=True)
        self._listener.start()
        self._sender.start()
        self._listening.wait(5.0)

    def ring(self, key: str | None = None) -> int:
        if self._closed.is_set():
            return 0
        with self._keys_lock:
            if key is None or "," in key or ":" in key:
                self._everything = True
            else:
                self._keys.add(key)
        self._pending.set()
        return 1

    def close(self, timeout: float = 2.0) -> None:
        self._closed.set()
        self._pending.set()
        self._sender.join(timeout)
        self._listener.join(timeout)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=5)

    def _heard(self, payload: str) -> None:
        token, _, names = payload.partition(":")
        if token == self._token:
            return
        if not names:
            self._wake(None)
            return
        for name in names.split(","):
            self._wake(name)

    def _listen(self) -> None:
        while not self._closed.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self._listening.set()
                    self._wake(None)  # whatever was rung while we were not listening
                    while not self._closed.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._heard(note.payload)
            except psycopg.Error as problem:
                log.debug("%s: listening failed (%s); again shortly", self.channel, problem)
                self._closed.wait(RECONNECT_S)

    def _payloads(self) -> list[str]:
        """What was rung since the last send, as NOTIFY payloads (each under the server's
        8,000-byte limit)."""
        with self._keys_lock:
            keys, self._keys = sorted(self._keys), set()
            everything, self._everything = self._everything, False
        if everything or not keys:
            return [self._token]
        payloads: list[str] = []
        chunk: list[str] = []
        size = 0
        for key in keys:
            if chunk and size + len(key) + 1 > NOTIFY_PAYLOAD_BYTES:
                payloads.append(f"{self._token}:{','.join(chunk)}")
                chunk, size = [], 0
            chunk.append(key)
            size += len(key.encode()) + 1
        payloads.append(f"{self._token}:{','.join(chunk)}")
        return payloads

    def _send(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while True:
            self._pending.wait()
            if self._closed.is_set():
                break
            self._pending.clear()
            payloads = self._payloads()
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                with conn.transaction():  # one round trip's worth: delivered together
                    for payload in payloads:
                        conn.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))
                self.sent += 1
            except psycopg.Error as problem:
                log.debug("%s: ring not sent (%s)", self.channel, problem)
                with self._keys_lock:
                    self._everything = True  # the names are gone: the next ring wakes all
                self._pending.set()
                if conn is not None:
                    conn.close()
                conn = None
                self._closed.wait(RECONNECT_S)
        if conn is not None:
            conn.close()
