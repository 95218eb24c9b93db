"""Pacing and the courier in the core (issue 10), without Kivy: a scheduled order waits
UPCOMING and joins the board at its start-by with the chime; COURIER WAITING sounds the alert
once per arrival, never for a ready order; both survive a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from kds_device.domain.events import Event
from kds_device.domain.timestamps import format_timestamp
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.core_view import NoView
from kds_device.runtime.messages import EventsArrived
from kds_device.sim.orders import OrderGenerator
from tests.core.conftest import make_core
from tests.fixtures.common import FakeTime
from tests.fixtures.pacing import courier, received, reset_seq


def post(core: BoardCore, *events: Event) -> None:
    core.inbox.post(EventsArrived(tuple(events), "http", None))
    core.drain()


def played(core: BoardCore) -> list[str]:
    assert isinstance(core.view, NoView)
    return core.view.played


def fresh(tmp_path: Path, clock: FakeTime) -> BoardCore:
    reset_seq()  # a new core reads the journal from seq 1
    return make_core(tmp_path, clock)


def test_a_scheduled_order_joins_the_board_at_start_by_with_the_chime(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    core = fresh(tmp_path, clock)
    promised = format_timestamp(clock.now.wall + timedelta(minutes=50))
    payload = orders.order(deliveryIsAsap=False, pickupTime=promised, estimatedPickupTime="")
    order_id = payload["orderId"]
    post(core, received(payload, {"grill": 12}))
    assert played(core) == ["chime"]  # it arrived (the bar's "last order" says so too)
    assert core.board.open_tickets() == [] and [t.order_id for t in core.board.upcoming()] == [
        order_id
    ]
    clock.advance(38 * 60 - 1)
    core.tick()
    assert core.board.open_tickets() == [] and played(core) == ["chime"]

    core.close()  # a restart while it waits: still UPCOMING, no chime for that
    core = make_core(tmp_path, clock)
    assert core.board.open_tickets() == [] and len(core.board.upcoming()) == 1
    assert played(core) == []
    clock.advance(2)  # start-by: promise - 12 min prep
    core.tick()
    assert [t.order_id for t in core.board.open_tickets()] == [order_id]
    assert played(core) == ["chime"] and core.board.selected_id == order_id
    core.tick()
    assert played(core) == ["chime"]  # once
    core.close()


def test_courier_waiting_sounds_once_and_survives_a_restart(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    core = fresh(tmp_path, clock)
    waiting = orders.order(orderType=2, deliveryIsAsap=True)
    ready = orders.order(orderType=2, deliveryIsAsap=True)
    post(core, received(waiting), received(ready))
    core.board.bump(clock(), ready["orderId"])  # sent at 70: ready for the courier
    played(core).clear()
    post(core, courier(ready["orderId"], 85))
    assert played(core) == []  # a ready order does not shout
    post(core, courier(waiting["orderId"], 84), courier(waiting["orderId"], 85))
    assert played(core) == ["alert"]
    post(core, courier(waiting["orderId"], 85))  # the same arrival, told again
    assert played(core) == ["alert"]
    ticket = core.board.ticket(waiting["orderId"])
    assert ticket is not None and core.board.pace.courier_waiting(ticket)

    core.close()
    core = make_core(tmp_path, clock)
    ticket = core.board.ticket(waiting["orderId"])
    assert ticket is not None and core.board.pace.courier_waiting(ticket)
    post(core, courier(waiting["orderId"], 85))
    assert played(core) == []  # decided before the restart: not again
    core.close()
