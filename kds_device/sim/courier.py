"""Couriers for the simulator's delivery orders, reported as Deliverect does: courier statuses
through the order-status-update webhook (protocol notes 2.4 and 4.1).

A real flow: the delivery is created when the order lands (81), the courier sets off so as to
arrive at the promised pickup time (83, with the ETA), is almost there two minutes before
(84) and arrives (85) whether the food is ready or not; only once the kitchen has sent ready
for pickup (70) does the courier leave (87) and, later, reach the customer (89). ``scale``
compresses the minutes for the demo and the tests (0.01: a 10-minute wait takes 6 s).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kds_device.domain.timestamps import format_timestamp, parse_timestamp

DELIVERY = 2
#: Minutes of the flow (before scaling): the ride to the restaurant, "almost there", the wait
#: for the bag once it is ready, the ride to the customer.
RIDE_TO_PICKUP_MIN = 6.0
ALMOST_MIN = 2.0
HANDOVER_MIN = 1.0
RIDE_TO_DROPOFF_MIN = 10.0
COURIERS = (("Sam", "Rider"), ("Ana", "Costa"), ("Ben", "Okafor"), ("Mia", "Lindqvist"))


@dataclass
class _Trip:
    order: Mapping[str, Any]
    created: float  # monotonic, scaled seconds from here on
    arrive: float  # when the courier reaches the restaurant (85)
    courier: tuple[str, str]
    sent: list[int] = field(default_factory=list)
    left_at: float | None = None  # when 87 went out


class CourierFlow:
    """Sends each delivery order's courier statuses when they fall due.

    ``send(body)`` posts one order-status-update body (e.g. ``WebhookSender.send_status_update``);
    ``ready(order_id)`` says whether Deliverect has heard 70 for the order (e.g. from the
    simulated Deliverect API: ``(state.last_status(oid) or 0) >= 70``)."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], object],
        ready: Callable[[str], bool],
        *,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        seed: int | None = None,
    ) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self._send = send
        self._ready = ready
        self.scale = scale
        self._clock = clock
        self._wall = wall
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._trips: dict[str, _Trip] = {}

    def add(self, order: Mapping[str, Any]) -> bool:
        """Follow a new order; False (ignored) unless it is a delivery."""
        if order.get("orderType") != DELIVERY or not order.get("orderId"):
            return False
        now = self._clock()
        wait_min = RIDE_TO_PICKUP_MIN + 2.0
        try:
            promised = parse_timestamp(order.get("pickupTime"))
        except ValueError:
            promised = None
        if promised is not None:
            wait_min = max(ALMOST_MIN, (promised - self._wall()).total_seconds() / 60)
        trip = _Trip(order, now, now + wait_min * 60 * self.scale, self._random.choice(COURIERS))
        with self._lock:
            self._trips[str(order["orderId"])] = trip
        return True

    def tick(self) -> int:
        """Send every status due now (in order); returns how many were sent."""
        with self._lock:
            trips = list(self._trips.items())
        count = 0
        for order_id, trip in trips:
            for status in self._due(order_id, trip):
                self._send(self._body(trip, status))
                trip.sent.append(status)
                count += 1
            if 89 in trip.sent:
                with self._lock:
                    self._trips.pop(order_id, None)
        return count

    def pending(self) -> int:
        """Trips not finished yet (no 89)."""
        with self._lock:
            return len(self._trips)

    def run(self, stop: threading.Event, every_s: float = 0.1) -> None:
        """Tick until ``stop`` is set (a thread's target)."""
        while not stop.is_set():
            self.tick()
            stop.wait(every_s)

    def _due(self, order_id: str, trip: _Trip) -> list[int]:
        now = self._clock()
        minute = 60 * self.scale
        plan = [
            (81, trip.created),
            (83, max(trip.created, trip.arrive - RIDE_TO_PICKUP_MIN * minute)),
            (84, max(trip.created, trip.arrive - ALMOST_MIN * minute)),
            (85, trip.arrive),
        ]
        due = [status for status, at in plan if at <= now and status not in trip.sent]
        arrived = 85 in trip.sent or 85 in due
        handed = now >= trip.arrive + HANDOVER_MIN * minute
        if arrived and trip.left_at is None and handed and self._ready(order_id):
            due.append(87)  # the courier leaves only with the bag
            trip.left_at = now
        elif trip.left_at is not None and now >= trip.left_at + RIDE_TO_DROPOFF_MIN * minute:
            due.append(89)  # (a trip is dropped once 89 is sent)
        return due

    def _body(self, trip: _Trip, status: int) -> dict[str, Any]:
        order = trip.order
        first, last = trip.courier
        wall = self._wall()
        body: dict[str, Any] = {
            "orderId": order["orderId"],
            "channelOrderId": order.get("channelOrderId", ""),
            "location": order.get("location", ""),
            "status": status,
            "timeStamp": format_timestamp(wall),
            "receiptId": "",
            "reason": "",
            "courier": {
                "firstName": first,
                "lastName": last,
                "phoneNumber": "+3200000000",
                "deliveryBy": "channel",
            },
        }
        if status < 85:
            left_s = max(0.0, trip.arrive - self._clock()) / self.scale
            body["pickupTime"] = format_timestamp(wall + timedelta(seconds=left_s))
        return body


class RunningCouriers(CourierFlow):
    """A flow ticking in a thread of its own (``kds-sim send --couriers``, the demo)."""

    _stop: threading.Event
    _thread: threading.Thread

    @classmethod
    def start(
        cls,
        send: Callable[[dict[str, Any]], object],
        ready: Callable[[str], bool],
        scale: float = 1.0,
    ) -> RunningCouriers:
        flow = cls(send, ready, scale=scale)
        flow._stop = threading.Event()
        flow._thread = threading.Thread(
            target=flow.run, args=(flow._stop,), name="sim-couriers", daemon=True
        )
        flow._thread.start()
        return flow

    def finish(self, timeout_s: float) -> bool:
        """Wait until every trip ended (True) or ``timeout_s`` passed (False)."""
        deadline = time.monotonic() + timeout_s
        while self.pending() and time.monotonic() < deadline:
            self._stop.wait(0.1)
        return not self.pending()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def ready_at(deliverect_url: str, timeout_s: float = 5.0) -> Callable[[str], bool]:
    """``ready`` for a simulated Deliverect run elsewhere: has it accepted 70 for the order?
    (its ``GET /_sim/calls``; an unreachable simulator means not ready yet)."""
    import requests

    url = f"{deliverect_url.rstrip('/')}/_sim/calls"

    def ready(order_id: str) -> bool:
        try:
            calls = requests.get(url, timeout=timeout_s).json()["calls"]
        except (requests.RequestException, ValueError, KeyError, TypeError):
            return False
        return any(
            c.get("orderId") == order_id
            and c.get("httpStatus") == 200
            and (c.get("status") or 0) >= 70
            for c in calls
            if isinstance(c, dict)
        )

    return ready
