"""The core's tests: a real :class:`BoardCore` with a real board file (SQLite in tmp), a
recording status sink and a fake clock; no Kivy (``test_without_kivy.py`` runs them all
with Kivy blocked)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kds_device.config import DeviceConfig
from kds_device.domain.board import StatusChange
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.core_view import NoView
from kds_device.runtime.messages import Link, LinkChanged
from tests.fixtures.common import FakeTime


@dataclass
class Sink:
    changes: list[StatusChange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, change: StatusChange) -> None:
        with self.lock:
            self.changes.append(change)


def make_core(data_dir: Path, clock: FakeTime, sink: object | None = None) -> BoardCore:
    core = BoardCore(
        DeviceConfig(),
        sink or Sink(),  # type: ignore[arg-type]
        clock,
        link=LinkChanged(Link.LIVE_HTTP, clock.now.mono),
        view=NoView(),
    )
    core.open_store(data_dir)
    return core


@pytest.fixture
def core(tmp_path: Path, clock: FakeTime) -> BoardCore:
    (tmp_path / "data").mkdir()
    made = make_core(tmp_path / "data", clock)
    yield made
    made.close()
