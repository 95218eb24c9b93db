"""The core's one gate for the cook's presses (the screen's care answers it on the device):
closed, no source changes the board or reaches the outbox; the lock of the pure screen care
opens it again by itself."""

from __future__ import annotations

from kds_device.domain.actions import Action
from kds_device.domain.screen_care import CareSettings, ScreenCare, Verdict
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.cook_input import PressStart
from kds_device.runtime.core_view import NoView
from kds_device.runtime.messages import ActionRequested, OrderArrived
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.common import FakeTime

PLACE = (0.0, 0.0, 100.0, 100.0)


def test_a_closed_gate_stops_keys_gpio_touch_and_learn(
    core: BoardCore, orders: OrderGenerator
) -> None:
    for _ in range(2):
        core.inbox.post(OrderArrived(orders.order()))
    core.drain()
    core.perform(Action.FIRST)
    first = core.board.selected_id
    assert first is not None
    asked: list[Action | None] = []

    def closed(action: Action | None) -> bool:
        asked.append(action)
        return False

    core.input_gate = closed
    core.perform(Action.BUMP)  # a key
    core.inbox.post(ActionRequested(Action.BUMP, "gpio:13"))  # a GPIO button
    core.drain()
    core.press(PressStart(first, True, PLACE, 5.0), first, PLACE)  # a tap on the selection
    core.perform(Action.RECALL)
    core.request_learn()
    assert asked == [Action.BUMP, Action.BUMP, None, Action.RECALL, None]
    assert core.sink.changes == []  # type: ignore[attr-defined]
    assert not core.board.ticket(first).bumped and core.recall is None
    assert isinstance(core.view, NoView) and core.view.learn_opened == 0

    core.input_gate = lambda _action: True
    core.press(PressStart(first, True, PLACE, 5.0), first, PLACE)
    assert core.board.ticket(first).bumped
    assert len(core.sink.changes) == 1  # type: ignore[attr-defined]


def test_the_cleaning_lock_closes_the_gate_and_opens_it_by_itself(
    core: BoardCore, orders: OrderGenerator, clock: FakeTime
) -> None:
    care = ScreenCare(CareSettings(lock_s=30), clock.now.mono)
    core.input_gate = lambda _action: care.input(clock.now.mono) is Verdict.ACT
    core.inbox.post(OrderArrived(orders.order()))
    core.drain()
    core.perform(Action.FIRST)
    care.lock(clock.now.mono)
    clock.advance(29.5)
    core.perform(Action.BUMP)
    assert core.sink.changes == []  # type: ignore[attr-defined]
    chimes = core.view.played.count("chime")  # type: ignore[attr-defined]
    core.inbox.post(OrderArrived(orders.order()))  # orders still arrive under the lock
    core.drain()
    assert len(core.board.open_tickets()) == 2
    assert core.view.played.count("chime") == chimes + 1  # type: ignore[attr-defined]
    clock.advance(1.0)
    core.perform(Action.BUMP)
    assert len(core.sink.changes) == 1  # type: ignore[attr-defined]
