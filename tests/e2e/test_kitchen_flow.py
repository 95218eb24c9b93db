"""The live kitchen end to end: the simulated Deliverect sends orders to the real gateway
(``kds-gateway serve``), the board receives them through Mosquitto, a real touch bumps a
tile, and the status reaches the simulator, valid against Deliverect's OpenAPI file. Two
screens on one location stay in step."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kds_device.runtime.messages import Link
from kds_device.sim.orders import OrderGenerator
from kds_device.sim.sender import WebhookSender
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.device import identity_of
from tests.fixtures.device_app import DeviceProcess, LiveBoard
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import wait_until

pytestmark = [pytest.mark.ui, pytest.mark.mqtt, pytest.mark.slow, pytest.mark.timeout(180)]

LOCATION = "loc-e2e"


@pytest.fixture
def deliverect(mqtt_gateway: GatewayProcess) -> Iterator[WebhookSender]:
    """The simulator's webhook sender, registered with the gateway like Deliverect does."""
    sender = WebhookSender(mqtt_gateway.base_url, mqtt_gateway.secret)
    sender.register("acc-e2e", LOCATION, "store-e2e")
    yield sender
    sender.close()


def test_order_to_tile_touch_bump_to_deliverect(
    mqtt_gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    deliverect: WebhookSender,
    make_live_board: Callable[..., LiveBoard],
) -> None:
    board = make_live_board(identity_of(mqtt_gateway, mqtt_gateway.enroll_device(LOCATION)))
    board.wait_for(lambda: board.app.link.link is Link.LIVE_MQTT, 10, "live (MQTT)")
    orders = OrderGenerator(seed=40)
    first, second = orders.order(), orders.order()
    for payload in (first, second):
        assert deliverect.send_order(payload).ok
    board.wait_for(
        lambda: {first["orderId"], second["orderId"]} <= set(board.open_ids()), 10, "two tiles"
    )
    target = second["orderId"]
    board.tap_widget(board.tile(target))  # select
    board.tap_widget(board.tile(target))  # bump
    assert board.app.screen.tile_for(target) is None  # off the board at once
    calls = deliverect_sim.wait_for_calls(1, timeout=15, accepted_only=True)
    assert [(c.order_id, c.status, c.http_status) for c in calls] == [(target, 70, 200)]
    board.wait_for(lambda: board.app.outbox_pending == 0, 5, "nothing waiting to sync")
    assert first["orderId"] in board.open_ids()


def test_two_screens_on_one_location_stay_in_step(
    mqtt_gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    deliverect: WebhookSender,
    make_live_board: Callable[..., LiveBoard],
    make_device_process: Callable[..., DeviceProcess],
) -> None:
    other = make_device_process()
    other.enroll(mqtt_gateway, LOCATION, name="Expo")
    other.start()
    board = make_live_board(identity_of(mqtt_gateway, mqtt_gateway.enroll_device(LOCATION)))
    payloads = [OrderGenerator(seed=41).order() for _ in range(1)]
    payloads += [OrderGenerator(seed=42).order()]
    for payload in payloads:
        assert deliverect.send_order(payload).ok
    ids = {p["orderId"] for p in payloads}
    board.wait_for(lambda: ids <= set(board.open_ids()), 10, "tiles here")
    wait_until(lambda: ids <= set(other.tickets()), 20, "tickets on the other screen")

    # A touch here removes the tile there.
    mine = payloads[0]["orderId"]
    board.tap_widget(board.tile(mine))
    if board.app.screen.tile_for(mine) is not None:  # it was not selected yet: now bump
        board.tap_widget(board.tile(mine))
    assert board.app.screen.tile_for(mine) is None
    wait_until(lambda: mine in other.bumped(), 15, "the bump reflected on the other screen")

    # A bump there (its bump bar) removes the tile here.
    theirs = payloads[1]["orderId"]
    other.action("bump")  # its selection is the one open ticket left
    board.wait_for(lambda: board.app.screen.tile_for(theirs) is None, 15, "tile gone here")
    assert board.app.board.ticket(theirs).bumped
    calls = deliverect_sim.wait_for_calls(2, timeout=15, accepted_only=True)
    assert sorted((c.order_id, c.status) for c in calls) == sorted([(mine, 70), (theirs, 70)])
