"""A stream of Deliverect traffic at a chosen rate: orders, duplicates and late cancels.

Orders come from ``OrderGenerator`` (the project's one generator). A duplicate is the same
order sent again a few orders later (as Deliverect's retries deliver it); a cancel
(``OrderGenerator.cancel``) follows its order a few orders later, as channel cancels do.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kds_device.sim.orders import OrderGenerator
from kds_device.sim.sender import Delivery, WebhookSender


@dataclass
class TrafficReport:
    """What a run sent and how the gateway answered."""

    deliveries: list[Delivery] = field(default_factory=list)

    def count(self, kind: str, ok: bool | None = None) -> int:
        return sum(1 for d in self.deliveries if d.kind == kind and (ok is None or d.ok == ok))

    @property
    def failures(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.ok]

    def summary(self) -> dict[str, Any]:
        kinds = Counter(d.kind for d in self.deliveries)
        return {
            "sent": dict(kinds),
            "delivered": {kind: self.count(kind, ok=True) for kind in kinds},
            "failed": [
                {"kind": d.kind, "orderId": d.order_id, "status": d.status_code, "detail": d.detail}
                for d in self.failures
            ],
            "retried": sum(1 for d in self.deliveries if d.attempts > 1),
        }


def send_traffic(
    sender: WebhookSender,
    generator: OrderGenerator,
    count: int,
    rate_per_min: float = 0.0,
    duplicates: float = 0.0,
    cancels: float = 0.0,
    rnd: random.Random | None = None,
    on_delivery: Callable[[Delivery], None] | None = None,
    on_order: Callable[[dict[str, Any]], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    keep_deliveries: bool = True,
) -> TrafficReport:
    """Send ``count`` orders (``rate_per_min`` 0 = as fast as the gateway answers), each
    duplicated with probability ``duplicates`` and cancelled with probability ``cancels``.
    ``on_order`` sees each new order once it was sent (e.g. ``CourierFlow.add``).
    ``sender`` must be registered already. An endless stream (the demo) passes
    ``keep_deliveries=False``: the report then stays empty and ``on_delivery`` sees each one."""
    if not 0.0 <= duplicates <= 1.0 or not 0.0 <= cancels <= 1.0:
        raise ValueError("duplicates and cancels are probabilities (0..1)")
    rnd = rnd or random.Random()
    report = TrafficReport()
    later: dict[int, list[tuple[str, dict[str, Any]]]] = {}  # tick -> what to send then

    def deliver(kind: str, payload: dict[str, Any]) -> None:
        if kind == "cancel":
            delivery = sender.send_cancel(payload)
        else:
            delivery = sender.send_order(payload, kind=kind)
        if keep_deliveries:
            report.deliveries.append(delivery)
        if on_delivery is not None:
            on_delivery(delivery)

    interval = 60.0 / rate_per_min if rate_per_min > 0 else 0.0
    start = clock()
    for tick in range(count):
        if interval:
            wait = start + tick * interval - clock()
            if wait > 0:
                sleep(wait)
        order = generator.order()
        deliver("order", order)
        if on_order is not None:
            on_order(order)
        if rnd.random() < duplicates:
            later.setdefault(tick + rnd.randint(0, 3), []).append(("duplicate", order))
        if rnd.random() < cancels:
            later.setdefault(tick + rnd.randint(1, 5), []).append(
                ("cancel", generator.cancel(order))
            )
        for kind, payload in later.pop(tick, []):
            deliver(kind, payload)
    for tick in sorted(later):  # what was due after the last order
        for kind, payload in later[tick]:
            deliver(kind, payload)
    return report
