"""Stations and expo in the device's core, without a screen: what a station screen shows,
part bumps and item done (what goes to the gateway, with keys), expo's progress and ALL
READY, recall and undo at each level, events from other screens, the role changing, and a
restart keeping all of it."""

from __future__ import annotations

from pathlib import Path

from kds_device.domain.actions import Action
from kds_device.domain.lines import LineKind
from kds_device.domain.roles import Role, RoleKind
from kds_device.domain.ticket import ItemChange, PartChange, StatusChange
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.cook_input import PressStart
from kds_device.runtime.core_view import NoView
from kds_device.runtime.messages import EventsArrived, RoleChanged
from kds_device.sim.orders import OrderGenerator
from tests.core.conftest import Sink, make_core
from tests.fixtures.common import FakeTime
from tests.fixtures.stations import Journal, kitchen_order

GRILL = Role.for_stations(["grill"])
EXPO = Role(RoleKind.EXPO)


def station_core(tmp_path: Path, clock: FakeTime, role: Role, name: str = "data") -> BoardCore:
    (tmp_path / name).mkdir(exist_ok=True)
    core = make_core(tmp_path / name, clock)
    core.board.settings.device_id = f"dev-{name}"
    core.board.set_role(role)
    return core


def feed(core: BoardCore, *events: object) -> None:
    core.inbox.post(EventsArrived(tuple(events), "http"))  # type: ignore[arg-type]
    core.drain()


def sent(core: BoardCore) -> list[object]:
    sink = core.sink
    assert isinstance(sink, Sink)
    return list(sink.changes)


def texts(core: BoardCore, order_id: str) -> list[str]:
    ticket = core.board.ticket(order_id)
    assert ticket is not None
    return [line.label() for line in ticket.lines]


def test_a_station_shows_only_its_items_with_their_modifiers_and_a_hint(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    grill = station_core(tmp_path, clock, GRILL)
    journal = Journal()
    mixed = kitchen_order(orders, ["grill", "fryer", "fryer", "grill"])
    fryer_only = kitchen_order(orders, ["fryer"])
    feed(grill, journal.received(mixed, ["grill", "fryer", "fryer", "grill"]))
    feed(grill, journal.received(fryer_only, ["fryer"]))
    lines = texts(grill, mixed["orderId"])
    assert "1  Grill item 0" in lines[0] and "Grill item 3" in " ".join(lines)
    assert any("Extra cheese" in line for line in lines), "the modifier follows its item"
    assert any("well done" in line for line in lines), "the remark follows its item"
    assert not any("Fryer item" in line for line in lines)
    assert "+2 at Fryer" in lines
    ids = [t.order_id for t in grill.board.open_tickets()]
    assert ids == [mixed["orderId"]], "an order with nothing for the grill never appears"
    assert isinstance(grill.view, NoView) and grill.view.played == ["chime"]
    assert dict(grill.board.all_day()) == {"Grill item 0": 1, "Grill item 3": 1}
    grill.close()


def test_part_bump_sends_the_part_not_a_status_and_recall_reopens_it(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    grill = station_core(tmp_path, clock, GRILL)
    journal = Journal()
    order = kitchen_order(orders, ["grill", "fryer"])
    feed(grill, journal.received(order, ["grill", "fryer"]))
    grill.perform(Action.BUMP)
    (change,) = sent(grill)
    assert isinstance(change, PartChange)
    assert (change.order_id, change.station, change.done) == (order["orderId"], "grill", True)
    assert grill.board.open_tickets() == []
    # the echo of its own part bump changes nothing; recall reopens the part
    feed(grill, journal.part(order["orderId"], "grill", True, key=change.key))
    assert grill.board.ticket(order["orderId"]).bumped
    grill.perform(Action.RECALL)
    grill.perform(Action.BUMP)  # restore the first entry of the recall list
    reopen = sent(grill)[-1]
    assert isinstance(reopen, PartChange) and reopen.done is False
    assert [t.order_id for t in grill.board.open_tickets()] == [order["orderId"]]
    assert not any(isinstance(c, StatusChange) for c in sent(grill))
    grill.close()


def test_item_done_by_tap_strikes_it_through_and_undo_takes_it_back(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    grill = station_core(tmp_path, clock, GRILL)
    journal = Journal()
    order = kitchen_order(orders, ["grill", "grill", "fryer"])
    order_id = order["orderId"]
    feed(grill, journal.received(order, ["grill", "grill", "fryer"]))
    grill.board.select(order_id)
    place = (0.0, 0.0, 100.0, 100.0)
    # not settled: nothing happens
    grill.press(PressStart(order_id, True, place, 0.1, item=1), order_id, place, 1)
    assert sent(grill) == []
    # down on item 1, lifted on item 0: neither is marked, nothing is bumped
    grill.press(PressStart(order_id, True, place, 5.0, item=1), order_id, place, 0)
    assert sent(grill) == [] and grill.board.ticket(order_id).visible
    grill.press(PressStart(order_id, True, place, 5.0, item=1), order_id, place, 1)
    (change,) = sent(grill)
    assert change == ItemChange(order_id, "grill", 1, True, change.key)
    ticket = grill.board.ticket(order_id)
    done = [line for line in ticket.lines if line.done]
    assert [line.text for line in done] == ["Grill item 1"] and ticket.visible
    assert dict(grill.board.all_day()) == {"Grill item 0": 1}, "a done item is not open"
    grill.perform(Action.UNDO)
    assert sent(grill)[-1] == ItemChange(order_id, "grill", 1, False, sent(grill)[-1].key)
    assert not any(line.done for line in grill.board.ticket(order_id).lines)
    # the bump bar's key marks the next open item
    grill.perform(Action.ITEM_DONE)
    assert sent(grill)[-1] == ItemChange(order_id, "grill", 0, True, sent(grill)[-1].key)
    grill.close()


def test_expo_sees_progress_then_all_ready_and_its_bump_sends_70_once(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    expo = station_core(tmp_path, clock, EXPO)
    journal = Journal()
    order = kitchen_order(orders, ["grill", "fryer", "fryer"])
    order_id = order["orderId"]
    feed(expo, journal.received(order, ["grill", "fryer", "fryer"]))
    ticket = expo.board.ticket(order_id)
    parts = [line.text for line in ticket.lines if line.kind is LineKind.PART]
    assert parts == ["Fryer  0/2", "Grill  0/1"]
    assert len([line for line in ticket.lines if line.kind is LineKind.ITEM]) == 3
    feed(expo, journal.item(order_id, "fryer", 2, True), journal.part(order_id, "grill", True))
    parts = [line.text for line in expo.board.ticket(order_id).lines if line.kind is LineKind.PART]
    assert parts[0] == "Fryer  1/2" and parts[1].startswith("Grill  done ")
    assert not expo.board.all_ready(ticket)
    feed(expo, journal.part(order_id, "fryer", True))
    assert expo.board.all_ready(ticket)
    feed(expo, journal.part(order_id, "grill", False))  # the grill recalled its part
    assert not expo.board.all_ready(ticket) and ticket.visible
    feed(expo, journal.part(order_id, "grill", True))
    expo.perform(Action.BUMP)
    expo.perform(Action.RECALL)
    expo.perform(Action.BUMP)  # recalled on expo: back, sends nothing
    expo.perform(Action.BUMP)  # bumped again: 70 was sent already
    assert [(c.order_id, c.status) for c in sent(expo)] == [(order_id, 70)]  # type: ignore[attr-defined]
    expo.close()


def test_a_part_bumped_on_another_station_screen_leaves_this_one_and_comes_back(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    grill = station_core(tmp_path, clock, GRILL)
    journal = Journal()
    order = kitchen_order(orders, ["grill", "fryer"])
    feed(grill, journal.received(order, ["grill", "fryer"]))
    feed(grill, journal.part(order["orderId"], "fryer", True))
    assert grill.board.open_tickets(), "another station's part does not bump this one"
    feed(grill, journal.part(order["orderId"], "grill", True))
    assert grill.board.open_tickets() == []
    feed(grill, journal.part(order["orderId"], "grill", False))
    assert grill.board.ticket(order["orderId"]).recalled
    feed(grill, journal.status(order["orderId"], 70, source="device"))
    assert grill.board.open_tickets() == [], "sent out by expo: gone from the station"
    fryer_only = kitchen_order(orders, ["fryer"])
    feed(grill, journal.received(fryer_only, ["fryer"]))
    feed(grill, journal.status(fryer_only["orderId"], 70, source="device"))
    recall = [t.order_id for t in grill.board.recall_list()]
    assert recall == [order["orderId"]], "an order never shown here is not in its recall list"
    assert sent(grill) == []
    grill.close()


def test_role_all_keeps_todays_bump_and_an_unrouted_order_shows_everywhere(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    whole = station_core(tmp_path, clock, Role())
    grill = station_core(tmp_path, clock, GRILL, "grill")
    routed = kitchen_order(orders, ["grill", "fryer"])
    plain = kitchen_order(orders, ["fryer"])
    for core in (whole, grill):
        journal = Journal()
        feed(core, journal.received(routed, ["grill", "fryer"]), journal.received(plain, None))
    assert len(whole.board.ticket(routed["orderId"]).lines) == 4, "the whole ticket, as today"
    assert grill.board.ticket(plain["orderId"]).visible, "unrouted: one part, on every screen"
    whole.board.select(routed["orderId"])
    whole.perform(Action.BUMP)
    assert [(type(c), c.status) for c in sent(whole)] == [(StatusChange, 70)]  # type: ignore[attr-defined]
    whole.close()
    grill.close()


def test_the_role_changes_from_the_gateway_and_survives_a_restart(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    core = station_core(tmp_path, clock, Role())
    journal = Journal()
    order = kitchen_order(orders, ["fryer"])
    feed(core, journal.received(order, ["fryer"]))
    assert core.board.open_tickets()
    feed(core, journal.role("someone-else", {"kind": "stations", "stations": ["grill"]}))
    assert core.board.role == Role()
    feed(core, journal.role("dev-data", {"kind": "stations", "stations": ["grill"]}))
    assert core.board.role == GRILL and core.board.open_tickets() == []
    core.close()
    again = make_core(tmp_path / "data", clock)
    assert again.board.role == GRILL and again.board.open_tickets() == []
    again.inbox.post(RoleChanged(EXPO))
    again.drain()
    assert again.board.role == EXPO and again.board.open_tickets()
    again.close()


def test_parts_and_items_survive_a_restart(
    tmp_path: Path, clock: FakeTime, orders: OrderGenerator
) -> None:
    expo = station_core(tmp_path, clock, EXPO)
    journal = Journal()
    order = kitchen_order(orders, ["grill", "fryer"])
    order_id = order["orderId"]
    feed(expo, journal.received(order, ["grill", "fryer"]))
    feed(expo, journal.part(order_id, "grill", True), journal.item(order_id, "fryer", 1, True))
    before = texts(expo, order_id)
    expo.close()
    again = make_core(tmp_path / "data", clock)
    assert again.board.role == EXPO
    assert texts(again, order_id) == before
    feed(again, Journal().event("x", None, {}))  # nothing re-applied: last_seq kept
    assert again.last_seq == 3
    again.close()
