"""A local control socket: another process on this box presses bump-bar actions.

Off unless ``KDS_DEVICE_CONTROL_SOCKET`` names a path. Used by the end-to-end tests that run
``kds-device run`` as a subprocess and kill -9 it (pytest cannot touch another process's
window), and usable by an installer to check a screen over SSH. A line ``bump`` (any action
name of :class:`Action`) becomes an :class:`ActionRequested` in the inbox, exactly what a bump
bar key produces; the answer is ``ok`` or ``error: ...`` (``ping`` only answers ``ok``). The
socket is a Unix socket with mode 0600, so only the device's own user can use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from pathlib import Path

from kds_device.domain.actions import Action
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import ActionRequested, Message

log = logging.getLogger(__name__)

ENV = "KDS_DEVICE_CONTROL_SOCKET"
MAX_LINE = 200


class ControlSocket:
    def __init__(self, path: Path, inbox: Inbox[Message]) -> None:
        self.path = path
        self._inbox = inbox
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def from_environment(cls, inbox: Inbox[Message]) -> ControlSocket | None:
        chosen = os.environ.get(ENV)
        return cls(Path(chosen), inbox) if chosen else None

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            server.bind(str(self.path))
        finally:
            os.umask(old)
        server.listen(4)
        server.settimeout(0.2)
        self._server = server
        self._thread = threading.Thread(target=self._serve, name="control-socket", daemon=True)
        self._thread.start()
        log.info("control socket at %s", self.path)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._server is not None:
            self._server.close()
        self.path.unlink(missing_ok=True)

    def _serve(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                with contextlib.suppress(OSError):
                    conn.sendall(self._handle(_read_line(conn)).encode() + b"\n")

    def _handle(self, line: str) -> str:
        if line == "ping":
            return "ok"
        try:
            action = Action.parse(line)
        except ValueError as error:
            return f"error: {error}"
        self._inbox.post(ActionRequested(action, source="control"))
        return "ok"


def _read_line(conn: socket.socket) -> str:
    data = b""
    while b"\n" not in data and len(data) < MAX_LINE:
        chunk = conn.recv(MAX_LINE)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


def send_action(path: Path, action: str, timeout_s: float = 5.0) -> str:
    """Client side (tests, SSH): send one action name, return the answer line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout_s)
        conn.connect(str(path))
        conn.sendall(action.encode() + b"\n")
        return _read_line(conn)
