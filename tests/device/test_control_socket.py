"""The local control socket: actions in, ActionRequested out; private; junk answered."""

from __future__ import annotations

import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kds_device.adapters.control_socket import ControlSocket, send_action
from kds_device.domain.actions import Action
from kds_device.runtime.messages import ActionRequested
from tests.fixtures.device import InboxRecorder

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def control(recorder: InboxRecorder) -> Iterator[ControlSocket]:
    with tempfile.TemporaryDirectory(prefix="kds-ctl-") as directory:
        control = ControlSocket(Path(directory) / "control.sock", recorder.inbox)
        control.start()
        yield control
        control.stop()
        assert not control.path.exists()


def test_actions_become_inbox_messages(control: ControlSocket, recorder: InboxRecorder) -> None:
    assert stat.S_IMODE(control.path.stat().st_mode) == 0o600
    assert send_action(control.path, "ping") == "ok"
    assert send_action(control.path, "bump") == "ok"
    assert send_action(control.path, "Page Next") == "ok"
    recorder.wait_for(lambda r: len(r.messages) == 2, what="two actions")
    assert recorder.messages == [
        ActionRequested(Action.BUMP, "control"),
        ActionRequested(Action.PAGE_NEXT, "control"),
    ]


def _send_raw(path: Path, data: bytes) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(5)
        conn.connect(str(path))
        conn.sendall(data)
        return conn.recv(200).decode()


def test_junk_is_answered_not_crashed_on(control: ControlSocket, recorder: InboxRecorder) -> None:
    assert send_action(control.path, "explode").startswith("error: unknown action")
    assert _send_raw(control.path, b"\xff\xfe bump\n").startswith("error")
    assert send_action(control.path, "x" * 150).startswith("error")
    assert send_action(control.path, "bump") == "ok"  # still serving
    recorder.wait_for(lambda r: r.messages, what="the bump")
    assert recorder.messages == [ActionRequested(Action.BUMP, "control")]
