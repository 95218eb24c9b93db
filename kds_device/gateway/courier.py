"""Courier statuses (81-89, 115) from Deliverect's order-status-update webhook, journaled as
``order.courier`` events for the tickets (docs/stations.md, protocol notes 2.4 and 4.1).

What the body carries besides ``orderId`` and ``status`` is documented only loosely (protocol
notes U2; Deliverect's courier updates name ``courierName`` or a ``courier`` object, and
``pickupTimeETA`` / ``pickupTime`` for when the courier reaches the restaurant), so every
field is optional and the whole body is kept in the event as ``payload``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kds_device.domain.events import EventType
from kds_device.domain.timestamps import format_timestamp, parse_timestamp
from kds_device.gateway.journal import Outcome, order_row
from kds_device.gateway.storage import FOR_UPDATE

if TYPE_CHECKING:
    from kds_device.gateway.ports import EventJournal

COURIER_LABELS = {
    81: "delivery created",
    83: "en route to pickup",
    84: "almost at pickup",
    85: "arrived at pickup",
    87: "en route to dropoff",
    89: "arrived at dropoff",
    115: "delivery cancelled",
}
#: Statuses before the courier is at the restaurant: an ETA to pickup makes sense.
_BEFORE_PICKUP = frozenset({81, 82, 83, 84})
#: Where an ETA to pickup may be (first found wins), as a time.
_ETA_TIMES = ("pickupTimeETA", "pickupEta", "pickupTime", "arrivalTime")
#: ... or as minutes.
_ETA_MINUTES = ("etaMin", "etaMinutes")
MAX_ETA_MIN = 24 * 60
MAX_NAME = 60


def is_courier_status(status: int) -> bool:
    return 81 <= status <= 89 or status == 115


def courier_data(status: int, body: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The ``order.courier`` event data for one webhook body received at ``now``."""
    data: dict[str, Any] = {
        "status": status,
        "label": COURIER_LABELS.get(status, f"courier {status}"),
    }
    if status in _BEFORE_PICKUP:
        eta = _eta(body, now)
        if eta is not None:
            data["etaMin"] = max(0, round((eta - now) / 60))
            data["etaAt"] = format_timestamp(datetime.fromtimestamp(eta, tz=UTC))
    name = _name(body)
    if name:
        data["courier"] = {"name": name}
    data["payload"] = dict(body)
    return data


def _eta(body: Mapping[str, Any], now: float) -> float | None:
    for key in _ETA_MINUTES:
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if 0 <= value <= MAX_ETA_MIN:
            return now + float(value) * 60
    for key in _ETA_TIMES:
        try:
            moment = parse_timestamp(body.get(key))
        except ValueError:
            continue
        if moment is not None and abs(moment.timestamp() - now) <= MAX_ETA_MIN * 60:
            return moment.timestamp()
    return None


def _name(body: Mapping[str, Any]) -> str:
    courier = body.get("courier")
    parts: list[str] = []
    if isinstance(courier, Mapping):
        for key in ("name", "firstName"):
            if isinstance(courier.get(key), str) and courier[key].strip():
                parts.append(courier[key].strip())
                break
        last = courier.get("lastName")
        if parts and isinstance(last, str) and last.strip():
            parts.append(last.strip()[0] + ".")  # a first name and an initial: enough to call
    if not parts and isinstance(body.get("courierName"), str):
        parts.append(body["courierName"].strip())
    return " ".join(parts)[:MAX_NAME]


def record_courier(
    journal: EventJournal, location_id: str, order_id: str, status: int, body: Mapping[str, Any]
) -> Outcome:
    """Journal a courier status of a known, live order; a repeat of the last one (same status,
    ETA and courier) changes nothing."""
    now = time.time()
    data = courier_data(status, body, now)
    with journal.db.write() as conn:
        row = order_row(conn, location_id, order_id, FOR_UPDATE[journal.db.engine])
        if row is None or not row["received"]:
            return Outcome("ignored", detail="order not seen")
        if row["voided"]:
            return Outcome("ignored", detail="order is voided")
        last = conn.execute(
            "SELECT data FROM events WHERE location_id = ? AND order_id = ? AND type = ?"
            " ORDER BY seq DESC LIMIT 1",
            (location_id, order_id, EventType.ORDER_COURIER.value),
        ).fetchone()
        if last is not None and _same(json.loads(last[0]), data):
            return Outcome("duplicate", detail="same courier status")
        seq = journal.append(conn, location_id, EventType.ORDER_COURIER, order_id, data, now)
    journal.notifier.notify()
    return Outcome("courier", seq)


def _same(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    keys = ("status", "etaAt", "courier")
    return all(before.get(k) == now.get(k) for k in keys)
