"""Pacing and the courier end to end: orders and Deliverect's courier statuses go to the real
gateway (``kds-gateway serve``) as signed webhooks, the gateway journals them, the board gets
them over its real device link (long-poll) and draws them under Xvfb. A scheduled order sits
in UPCOMING and fires at its start-by (time injected into the board's clock) with the chime;
courier 85 on an unfinished order shows COURIER WAITING and sounds the alert once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from kds_device.board_setup import system_now
from kds_device.config import ConnectionConfig
from kds_device.domain.clock import Instant
from kds_device.domain.timestamps import format_timestamp
from kds_device.runtime.messages import Link
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.device import identity_of
from tests.fixtures.device_app import LiveBoard
from tests.fixtures.gateway import GatewayProcess

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.timeout(120)]

LOCATION = "loc-pacing"


def shifted_clock(board: LiveBoard) -> list[float]:
    """The board's clock, ``[seconds]`` ahead of the real one (the test moves it on)."""
    ahead = [0.0]

    def now() -> Instant:
        return system_now().later(ahead[0])

    board.app.core.now = now
    board.app.screen._now = now
    return ahead


def test_a_scheduled_order_and_a_waiting_courier_through_the_gateway(
    gateway: GatewayProcess, make_live_board: Callable[..., LiveBoard]
) -> None:
    gateway.register(LOCATION)
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    board = make_live_board(identity, ConnectionConfig(poll_wait_s=5))
    board.wait_for(lambda: board.app.link.link is Link.LIVE_HTTP, 10, "live (HTTP)")
    ahead = shifted_clock(board)
    app = board.app
    orders = OrderGenerator(seed=60, clock=lambda: system_now().wall)

    # a scheduled order promised in 50 min; no station rules here: it starts 20 min before
    promise = format_timestamp(system_now().wall + timedelta(minutes=50))
    later = orders.order(pickupTime=promise, estimatedPickupTime="", deliveryIsAsap=False)
    delivery = orders.order(orderType=2, deliveryIsAsap=True)
    for payload in (later, delivery):
        assert gateway.send_order(LOCATION, payload).ok
    board.wait_for(lambda: delivery["orderId"] in board.open_ids(), 15, "the delivery's tile")
    board.wait_for(lambda: later["orderId"] in board.arrived_ids(), 15, "the scheduled order")
    assert app.screen.tile_for(later["orderId"]) is None
    assert app.screen.status_bar.upcoming_text == "1 upcoming"

    chimes = app.sounds.played["chime"]
    ahead[0] = 30 * 60 + 1  # the board's clock passes the start-by
    app.tick()
    board.wait_for(lambda: app.screen.tile_for(later["orderId"]) is not None, 5, "its tile")
    assert app.sounds.played["chime"] == chimes + 1
    assert app.screen.status_bar.upcoming_text == ""

    # the courier arrives for the delivery, not ready: COURIER WAITING, the alert once
    alerts = app.sounds.played["alert"]
    status = {"orderId": delivery["orderId"], "status": 85, "courier": {"name": "Sam R."}}
    path = f"/deliverect/{LOCATION}/order-status"
    assert gateway.post_webhook(path, status).ok
    board.wait_for(
        lambda: "COURIER WAITING" in board.tile(delivery["orderId"]).who_text, 15, "the courier"
    )
    assert app.sounds.played["alert"] == alerts + 1
    # a late "almost there" and the arrival told again (both journaled: neither repeats the
    # last event): the courier does not go back, and the same arrival does not sound again
    seq = app.core.last_seq
    for late in (84, "85"):
        assert gateway.post_webhook(path, {**status, "status": late}).ok
    board.wait_for(lambda: app.core.last_seq >= seq + 2, 15, "both courier events")
    app.tick()
    assert "COURIER WAITING" in board.tile(delivery["orderId"]).who_text
    assert app.sounds.played["alert"] == alerts + 1, "once per arrival"
