"""Deliverect's order status codes: the one status vocabulary of the project."""

from __future__ import annotations

import re
from enum import IntEnum


class OrderStatus(IntEnum):
    """Deliverect's integer order statuses (protocol notes, section 4.1)."""

    PARSED = 1
    RECEIVED = 2
    NEW = 10
    ACCEPTED = 20
    SCHEDULED = 25
    DUPLICATE = 30
    PRINTED = 40
    PREPARING = 50
    PREPARED = 60
    READY_FOR_PICKUP = 70
    IN_DELIVERY = 80
    FINALIZED = 90
    AUTO_FINALIZED = 95
    CANCEL = 100
    CANCELED = 110
    DELIVERY_CANCELED = 115
    FAILED = 120

    @property
    def label(self) -> str:
        return _LABELS.get(self, self.name.replace("_", " ").title())


_LABELS = {
    OrderStatus.PREPARING: "Preparing",
    OrderStatus.PREPARED: "Prepared",
    OrderStatus.READY_FOR_PICKUP: "Ready",
    OrderStatus.IN_DELIVERY: "In delivery",
}

#: The only statuses a KDS may send to ``POST /kds/orderStatus/{orderId}``.
KDS_SENDABLE: frozenset[int] = frozenset({50, 60, 70, 80})

#: Statuses (from Deliverect or another screen) that mean the order is voided.
VOIDING: frozenset[int] = frozenset({100, 110, 120})

#: Statuses at or past which the kitchen is done with an order, whatever the bump status.
FINISHED_FROM = 90


#: A status given as a string: ASCII digits only ("²" is a digit to ``str.isdigit``, not to
#: ``int``), at most nine of them (no status is longer; a huge one is not a status).
_STATUS_TEXT = re.compile(r"-?[0-9]{1,9}")


def coerce_status(value: object) -> int | None:
    """Read a status given as int or numeric string; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _STATUS_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None
