"""The journal's event vocabulary, shared by the gateway (writer) and the device (reader).

Every change at a location is an :class:`Event` with a per-location, gap-free ``seq``
(ARCHITECTURE section 4.4). The JSON form is what travels over MQTT and ``/api/v1/events``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    # data: {"payload": <raw Deliverect order>, "routing"?: Routing.to_json()}
    ORDER_RECEIVED = "order.received"
    ORDER_VOIDED = "order.voided"  # data: {"reason": str, "payload": <raw cancel>}
    # data: {"status": int, "source": "device" | "deliverect" | "policy", "device"?: str}
    STATUS_CHANGED = "order.status"
    PRODUCTS_SYNCED = "products.synced"  # data: {"count": int}
    DEVICE_ONLINE = "device.online"  # data: {"device": str}
    DEVICE_OFFLINE = "device.offline"  # data: {"device": str}
    # A kitchen of stations (docs/stations.md):
    STATIONS_RULES = "stations.rules"  # data: {"version": int, "rules": <normalised rules>}
    DEVICE_ROLE = "device.role"  # data: {"device": str, "role": Role.to_json()}
    # data: {"station": str, "item": int, "done": bool, "device": str, "key": str}
    ORDER_ITEM = "order.item"
    ORDER_PART = "order.part"  # data: {"station": str, "done": bool, "device": str, "key": str}
    # data: {"status": 81..89 | 115, "label": str, "etaMin"?: int, "courier"?: {"name": str},
    #        "payload": <the webhook body as sent>}
    ORDER_COURIER = "order.courier"


@dataclass(frozen=True)
class Event:
    seq: int
    location_id: str
    type: str
    order_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "locationId": self.location_id,
            "type": self.type,
            "orderId": self.order_id,
            "data": dict(self.data),
            "at": self.at,
        }

    @classmethod
    def from_json(cls, raw: object) -> Event:
        """Read an event; ValueError when it is not one (the caller logs and skips it)."""
        if not isinstance(raw, Mapping):
            raise ValueError("event is not an object")
        seq = raw.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError(f"event seq must be a positive integer, not {seq!r}")
        kind = raw.get("type")
        if not isinstance(kind, str):
            raise ValueError("event type must be a string")
        data = raw.get("data") or {}
        if not isinstance(data, Mapping):
            raise ValueError("event data must be an object")
        order_id = raw.get("orderId")
        return cls(
            seq=seq,
            location_id=str(raw.get("locationId") or ""),
            type=kind,
            order_id=str(order_id) if order_id is not None else None,
            data=dict(data),
            at=str(raw.get("at") or ""),
        )
