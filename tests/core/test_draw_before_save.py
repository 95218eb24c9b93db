"""Drawing never waits for the disk: the core shows what a pass changed first, and saves the
board and acknowledges the MQTT messages once the view says that frame is on screen."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from kds_device.config import DeviceConfig
from kds_device.domain.actions import Action
from kds_device.domain.events import Event, EventType
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.core_view import NoView
from kds_device.runtime.messages import EventsArrived, Link, LinkChanged
from kds_device.sim.orders import OrderGenerator
from tests.core.conftest import Sink
from tests.fixtures.common import FakeTime


class FrameView(NoView):
    """A view whose frame flips when the test says so; it notes, at each ``show``, which
    tickets the board file held at that moment."""

    def __init__(self, board_file: Path) -> None:
        super().__init__()
        self.board_file = board_file
        self.in_file_when_shown: list[set[str]] = []
        self._after: list[Callable[[], object]] = []

    def show(self, changed: set[str]) -> None:
        super().show(changed)
        self.in_file_when_shown.append(saved_ids(self.board_file))

    def after_frame(self, callback: Callable[[], object]) -> None:
        self._after.append(callback)

    def flip(self) -> None:
        callbacks, self._after = self._after, []
        for callback in callbacks:
            callback()


def saved_ids(board_file: Path) -> set[str]:
    db = sqlite3.connect(board_file)
    try:
        return {row[0] for row in db.execute("SELECT order_id FROM tickets WHERE bumped = 0")}
    except sqlite3.OperationalError:
        return set()
    finally:
        db.close()


def make(tmp_path: Path, clock: FakeTime, sink: Sink | None = None) -> tuple[BoardCore, FrameView]:
    view = FrameView(tmp_path / "board.db")
    core = BoardCore(
        DeviceConfig(),
        sink or Sink(),
        clock,
        link=LinkChanged(Link.LIVE_MQTT, clock.now.mono),
        view=view,
    )
    core.open_store(tmp_path)
    return core, view


def received(seq: int, payload: dict) -> Event:
    return Event(seq, "loc", EventType.ORDER_RECEIVED, payload["orderId"], {"payload": payload})


def test_an_order_is_drawn_before_it_is_saved_and_acknowledged_after(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    core, view = make(tmp_path, clock)
    acks: list[int] = []
    first, second = orders.order(), orders.order()
    core.inbox.post(EventsArrived((received(1, first),), "mqtt", lambda: acks.append(1)))
    core.inbox.post(EventsArrived((received(2, second),), "mqtt", lambda: acks.append(2)))
    core.drain()
    ids = {first["orderId"], second["orderId"]}
    assert view.shown[-1] >= ids, "both orders are drawn in this pass"
    assert view.in_file_when_shown[-1] == set(), "drawing waited for the board file"
    assert acks == [] and saved_ids(tmp_path / "board.db") == set()
    view.flip()  # the frame is on screen: now the file, then the broker
    assert saved_ids(tmp_path / "board.db") == ids
    assert acks == [1, 2]
    core.close()


def test_a_bump_is_in_the_outbox_before_the_frame_and_in_the_board_file_after(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    sink = Sink()
    core, view = make(tmp_path, clock, sink)
    payload = orders.order()
    core.inbox.post(EventsArrived((received(1, payload),), "mqtt", lambda: None))
    core.drain()
    view.flip()
    core.perform(Action.BUMP)
    assert [c.order_id for c in sink.changes] == [payload["orderId"]], "sent before the frame"
    assert saved_ids(tmp_path / "board.db") == {payload["orderId"]}, "not yet saved as bumped"
    view.flip()
    assert saved_ids(tmp_path / "board.db") == set()
    core.close()


def test_stopping_saves_what_was_drawn(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    core, _view = make(tmp_path, clock)
    acks: list[int] = []
    payload = orders.order()
    core.inbox.post(EventsArrived((received(1, payload),), "mqtt", lambda: acks.append(1)))
    core.drain()
    core.close()  # no frame flipped in between
    assert saved_ids(tmp_path / "board.db") == {payload["orderId"]}
    assert acks == [1]
    again, _ = make(tmp_path, clock)
    assert again.last_seq == 1 and again.board.ticket(payload["orderId"]) is not None
    again.close()
