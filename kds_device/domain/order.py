"""The one parser of Deliverect order webhooks (protocol notes, sections 2.3 and 4.4).

Used by the gateway (to journal), the device (to render) and the simulator (to check what
it generates). Unknown fields are ignored. Degrade, don't drop: only a body that cannot be an
order (not a JSON object, no usable order id) raises :class:`OrderPayloadError`; anything else
wrong (a negative quantity, a wrong type, no items, an absurd time) is read as best it can be
and listed in ``Order.problems``, each with the flag the ticket prints where it is.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from kds_device.domain.fields import (
    FieldReader,
    Problem,
    integer_of,
    shown,
)
from kds_device.domain.status import OrderStatus, coerce_status

#: An order id travels in URLs, MQTT payloads and logs: at most this many characters (as
#: sent), no control characters, not only spaces and dots. Deliverect's are 24 hex digits.
MAX_ORDER_ID = 128
_ORDER_ID = re.compile(rf"[^\x00-\x1f\x7f]{{1,{MAX_ORDER_ID}}}")
#: The most of one item a kitchen believes; more is flagged "CHECK qty".
MAX_QUANTITY = 999
NO_ITEMS = "NO ITEMS - check the tablet"

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


@dataclass(frozen=True, slots=True)
class Item:
    """One ordered product or modifier. ``quantity`` is per unit of the parent (0 when it
    could not be read); ``problem`` is the flag printed on its line, if any."""

    plu: str
    name: str
    quantity: int
    remark: str = ""
    tags: tuple[int, ...] = ()
    sub_items: tuple[Item, ...] = ()
    problem: str = ""


@dataclass(frozen=True, slots=True)
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
    problems: tuple[Problem, ...] = ()

    @property
    def notices(self) -> tuple[str, ...]:
        """The flags printed at the top of the ticket (once each): problems not on a line."""
        return tuple(dict.fromkeys(p.flag for p in self.problems if not p.on_line))

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
    found = FieldReader(data, [])
    return Cancel(
        order_id=order_id_of(data),
        channel_order_id=found.text("channelOrderId"),
        display_id=found.text("channelOrderDisplayId"),
        location=found.text("location"),
        reason=found.text("reason") or found.text("cancellationReason"),
    )


def parse_order(payload: object) -> Order:
    data = _mapping(payload, "body")
    order_id = order_id_of(data)
    problems: list[Problem] = []
    read = FieldReader(data, problems)
    items = _items(data.get("items"), problems)
    order_type = read.int("orderType")
    try:
        kind = OrderType(order_type) if order_type is not None else OrderType.OTHER
    except ValueError:
        kind = OrderType.OTHER
    display_id = read.text("channelOrderDisplayId") or read.text("channelOrderId")
    # the kitchen's location, brand and zone repeat on every order: interned (see _item)
    return Order(
        order_id=order_id,
        display_id=display_id or order_id[-6:],
        order_type=kind,
        items=items,
        channel=read.int("channel"),
        channel_order_id=read.text("channelOrderId"),
        location=sys.intern(read.text("location")),
        brand=sys.intern(read.text("brandName")),
        customer_name=read.text("customerName") or _customer_name(data),
        table=read.text("table"),
        pickup_time=read.time("pickupTime"),
        estimated_pickup_time=read.time("estimatedPickupTime"),
        delivery_time=read.time("deliveryTime"),
        asap=read.bool("deliveryIsAsap", True),
        note=read.text("note"),
        remake=read.bool("remake", False),
        test_order=read.bool("testOrder", False),
        timezone=sys.intern(read.text("timezone")),
        created=read.time("_created"),
        problems=tuple(dict.fromkeys(problems)),
    )


def read_order_id(value: object, field: str = "orderId") -> str:
    """An order id as the gateway keeps it (stripped text); OrderPayloadError if it is none."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            raise OrderPayloadError(field, "an integer id must fit in 64 bits")
        value = str(value)
    if not isinstance(value, str):
        raise OrderPayloadError(field, "must be a non-empty string")
    if not _ORDER_ID.fullmatch(value):
        raise OrderPayloadError(
            field, f"must be 1 to {MAX_ORDER_ID} characters without control characters"
        )
    if all(ch.isspace() or ch == "." for ch in value):
        # "." and ".." cannot travel as a URL path segment: clients drop them.
        raise OrderPayloadError(field, "must have a character other than spaces and dots")
    return value.strip()


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise OrderPayloadError(field, f"must be a JSON object, not {type(value).__name__}")
    return value


def order_id_of(data: Mapping[str, Any]) -> str:
    """``orderId``, else ``_id``; without a usable one the body is not an order."""
    key = "_id" if data.get("orderId") is None and data.get("_id") is not None else "orderId"
    if data.get(key) is None:
        raise OrderPayloadError("orderId", "missing")
    return read_order_id(data[key], key)


def _customer_name(data: Mapping[str, Any]) -> str:
    customer = data.get("customer")
    if isinstance(customer, Mapping):
        name = customer.get("name")
        if isinstance(name, str):
            return name.strip()
    return ""


def _items(raw_items: object, problems: list[Problem]) -> tuple[Item, ...]:
    if raw_items is None or raw_items == []:
        problems.append(Problem("items", "no items", NO_ITEMS))
        return ()
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, (str, bytes)):
        problems.append(Problem("items", "must be a list", NO_ITEMS))
        return ()
    counter = [0]
    items: list[Item] = []
    for index, raw in enumerate(raw_items):
        item = _item(raw, f"items[{index}]", 0, counter, problems)
        if item is None:
            break
        items.append(item)
    return tuple(items)


def _item(
    raw: object, path: str, depth: int, counter: list[int], problems: list[Problem]
) -> Item | None:
    """One item and its modifiers; None once the order has MAX_ITEMS (flagged once)."""
    counter[0] += 1
    if counter[0] > MAX_ITEMS:
        if counter[0] == MAX_ITEMS + 1:
            problems.append(Problem("items", f"more than {MAX_ITEMS} items", "TOO MANY ITEMS"))
        return None
    if not isinstance(raw, Mapping):
        reason = f"must be a JSON object, not {type(raw).__name__}"
        problems.append(Problem(path, reason, "CHECK item", on_line=True))
        name = raw.strip() if isinstance(raw, str) and raw.strip() else "?"
        return Item(plu="", name=name, quantity=0, problem="CHECK item")
    found: list[Problem] = []
    read = FieldReader(raw, found, f"{path}.")
    # a menu's words repeat on every order: one shared copy each, not one a ticket (interned
    # strings are freed with their last user)
    name = sys.intern(read.text("kitchenName", True) or read.text("name", True))
    plu = sys.intern(read.text("plu", True))
    if not name and not plu:
        read.flag("name", "missing (no name, kitchenName or plu)", "CHECK name", True)
    quantity = _quantity(raw.get("quantity"), read)
    remark = sys.intern(read.text("itemRemark", True) or read.text("remark", True))
    raw_tags = raw.get("productTags") or []
    tags: tuple[int, ...] = ()
    if isinstance(raw_tags, Sequence) and not isinstance(raw_tags, (str, bytes)):
        tags = tuple(t for t in raw_tags if isinstance(t, int) and not isinstance(t, bool))
    raw_subs = raw.get("subItems") or []
    if not isinstance(raw_subs, Sequence) or isinstance(raw_subs, (str, bytes)):
        read.flag("subItems", "must be a list", "CHECK modifiers", True)
        raw_subs = []
    elif raw_subs and depth + 1 >= MAX_DEPTH:
        reason = f"modifiers nested deeper than {MAX_DEPTH} levels"
        read.flag("subItems", reason, "CHECK modifiers", True)
        raw_subs = []
    problems.extend(found)  # before its modifiers': the list reads top to bottom
    subs: list[Item] = []
    for index, sub in enumerate(raw_subs):
        item = _item(sub, f"{path}.subItems[{index}]", depth + 1, counter, problems)
        if item is None:
            break
        subs.append(item)
    return Item(
        plu=plu,
        name=name or plu or "?",
        quantity=quantity,
        remark=remark,
        tags=tags,
        sub_items=tuple(subs),
        problem="; ".join(dict.fromkeys(p.flag for p in found)),
    )


def _quantity(value: object, read: FieldReader) -> int:
    """How many (1 when not given); 0 and a "CHECK qty" flag when not a sane count."""
    if value is None or value == "":
        return 1
    number = integer_of(value)
    if number is not None and 0 < number <= MAX_QUANTITY:
        return number
    text = shown(number if number is not None else value)
    read.flag("quantity", f"not a count: {text!r}", f"CHECK qty {text}", True)
    return 0
