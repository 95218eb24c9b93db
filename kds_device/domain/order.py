"""The one parser of Deliverect order webhooks (protocol notes, sections 2.3 and 4.4).

Used by the gateway (to journal), the device (to render) and the simulator (to check what
it generates). Unknown fields are ignored; a payload that cannot be an order raises
:class:`OrderPayloadError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from kds_device.domain.status import OrderStatus, coerce_status
from kds_device.domain.timestamps import parse_timestamp

#: Deepest modifier nesting we accept; deeper is hostile, not a menu.
MAX_DEPTH = 8
#: Most items (all levels together) on one order.
MAX_ITEMS = 2000


class OrderPayloadError(ValueError):
    """A webhook body that cannot be an order or a cancel; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class OrderType(IntEnum):
    """Deliverect ``orderType``; anything unlisted is OTHER."""

    OTHER = 0
    PICKUP = 1
    DELIVERY = 2
    EAT_IN = 3
    CURBSIDE = 4
    DRIVE_THROUGH = 5

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]


_TYPE_LABELS = {
    OrderType.OTHER: "Other",
    OrderType.PICKUP: "Pickup",
    OrderType.DELIVERY: "Delivery",
    OrderType.EAT_IN: "Eat-in",
    OrderType.CURBSIDE: "Curbside",
    OrderType.DRIVE_THROUGH: "Drive-thru",
}


@dataclass(frozen=True)
class Item:
    """One ordered product or modifier. ``quantity`` is per unit of the parent."""

    plu: str
    name: str
    quantity: int
    remark: str = ""
    tags: tuple[int, ...] = ()
    sub_items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Order:
    """A kitchen order as the board needs it."""

    order_id: str
    display_id: str
    order_type: OrderType
    items: tuple[Item, ...]
    channel: int | None = None
    channel_order_id: str = ""
    location: str = ""
    brand: str = ""
    customer_name: str = ""
    table: str = ""
    pickup_time: datetime | None = None
    estimated_pickup_time: datetime | None = None
    delivery_time: datetime | None = None
    asap: bool = True
    note: str = ""
    remake: bool = False
    test_order: bool = False
    timezone: str = ""
    created: datetime | None = None

    @property
    def promised_time(self) -> datetime | None:
        """When the order must be ready: pickup time, else the estimate, else delivery time."""
        return self.pickup_time or self.estimated_pickup_time or self.delivery_time


@dataclass(frozen=True)
class Cancel:
    """A cancel request (``status`` 100) for ``order_id``."""

    order_id: str
    channel_order_id: str = ""
    display_id: str = ""
    location: str = ""
    reason: str = ""


def parse_webhook(payload: object) -> Order | Cancel:
    """Parse an order-webhook body: a new order, or a cancel when ``status`` is 100."""
    data = _mapping(payload, "body")
    if coerce_status(data.get("status")) == OrderStatus.CANCEL:
        return parse_cancel(data)
    return parse_order(data)


def parse_cancel(payload: object) -> Cancel:
    data = _mapping(payload, "body")
    return Cancel(
        order_id=_order_id(data),
        channel_order_id=_text(data, "channelOrderId"),
        display_id=_text(data, "channelOrderDisplayId"),
        location=_text(data, "location"),
        reason=_text(data, "reason") or _text(data, "cancellationReason"),
    )


def parse_order(payload: object) -> Order:
    data = _mapping(payload, "body")
    order_id = _order_id(data)
    raw_items = data.get("items", [])
    if raw_items is None:
        raw_items = []
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, (str, bytes)):
        raise OrderPayloadError("items", "must be a list")
    counter = [0]
    items = tuple(_item(raw, f"items[{index}]", 0, counter) for index, raw in enumerate(raw_items))
    order_type = _int(data, "orderType")
    try:
        kind = OrderType(order_type) if order_type is not None else OrderType.OTHER
    except ValueError:
        kind = OrderType.OTHER
    display_id = _text(data, "channelOrderDisplayId") or _text(data, "channelOrderId")
    return Order(
        order_id=order_id,
        display_id=display_id or order_id[-6:],
        order_type=kind,
        items=items,
        channel=_int(data, "channel"),
        channel_order_id=_text(data, "channelOrderId"),
        location=_text(data, "location"),
        brand=_text(data, "brandName"),
        customer_name=_text(data, "customerName") or _customer_name(data),
        table=_text(data, "table"),
        pickup_time=_time(data, "pickupTime"),
        estimated_pickup_time=_time(data, "estimatedPickupTime"),
        delivery_time=_time(data, "deliveryTime"),
        asap=_bool(data, "deliveryIsAsap", True),
        note=_text(data, "note"),
        remake=_bool(data, "remake", False),
        test_order=_bool(data, "testOrder", False),
        timezone=_text(data, "timezone"),
        created=_time(data, "_created"),
    )


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise OrderPayloadError(field, f"must be a JSON object, not {type(value).__name__}")
    return value


def _order_id(data: Mapping[str, Any]) -> str:
    for key in ("orderId", "_id"):
        value = data.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
        if value is not None:
            raise OrderPayloadError(key, "must be a non-empty string")
    raise OrderPayloadError("orderId", "missing")


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise OrderPayloadError(key, f"must be a string, not {type(value).__name__}")
    return str(value).strip()


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise OrderPayloadError(key, "must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise OrderPayloadError(key, f"must be an integer, not {value!r}"[:120])


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in (0, 1, "true", "false"):
        return value in (1, "true")
    raise OrderPayloadError(key, "must be a boolean")


def _time(data: Mapping[str, Any], key: str) -> datetime | None:
    try:
        return parse_timestamp(data.get(key))
    except ValueError as error:
        raise OrderPayloadError(key, str(error)[:120]) from None


def _customer_name(data: Mapping[str, Any]) -> str:
    customer = data.get("customer")
    if isinstance(customer, Mapping):
        name = customer.get("name")
        if isinstance(name, str):
            return name.strip()
    return ""


def _item(raw: object, path: str, depth: int, counter: list[int]) -> Item:
    if depth >= MAX_DEPTH:
        raise OrderPayloadError(path, f"modifiers nested deeper than {MAX_DEPTH} levels")
    counter[0] += 1
    if counter[0] > MAX_ITEMS:
        raise OrderPayloadError(path, f"more than {MAX_ITEMS} items")
    data = _mapping(raw, path)
    name = _field(path, lambda: _text(data, "kitchenName")) or _field(
        path, lambda: _text(data, "name")
    )
    plu = _field(path, lambda: _text(data, "plu"))
    if not name and not plu:
        raise OrderPayloadError(f"{path}.name", "missing (no name, kitchenName or plu)")
    quantity = _field(path, lambda: _int(data, "quantity"))
    if quantity is None:
        quantity = 1
    if quantity < 0:
        raise OrderPayloadError(f"{path}.quantity", "must not be negative")
    remark = _field(path, lambda: _text(data, "itemRemark")) or _field(
        path, lambda: _text(data, "remark")
    )
    raw_tags = data.get("productTags") or []
    tags: tuple[int, ...] = ()
    if isinstance(raw_tags, Sequence) and not isinstance(raw_tags, (str, bytes)):
        tags = tuple(t for t in raw_tags if isinstance(t, int) and not isinstance(t, bool))
    raw_subs = data.get("subItems") or []
    if not isinstance(raw_subs, Sequence) or isinstance(raw_subs, (str, bytes)):
        raise OrderPayloadError(f"{path}.subItems", "must be a list")
    subs = tuple(
        _item(sub, f"{path}.subItems[{index}]", depth + 1, counter)
        for index, sub in enumerate(raw_subs)
    )
    return Item(
        plu=plu, name=name or plu, quantity=quantity, remark=remark, tags=tags, sub_items=subs
    )


def _field(path: str, read: Any) -> Any:
    """Run one field reader, prefixing any error with the item's path."""
    try:
        return read()
    except OrderPayloadError as error:
        raise OrderPayloadError(f"{path}.{error.field}", error.reason) from None
