"""The parser as a property: arbitrary unicode, huge numbers and extreme dates in any field.

Whatever a JSON object holds, the parser either refuses it for want of a usable order id
(OrderPayloadError naming ``orderId``/``_id``) or returns an order whose every problem is
named and flagged, and whose ticket lines can be printed. Nothing else ever escapes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kds_device.domain import Cancel, Order, OrderPayloadError, parse_webhook, ticket_lines
from kds_device.domain.fields import PLAUSIBLE_YEARS
from kds_device.domain.lines import item_totals
from kds_device.domain.order import MAX_ORDER_ID
from kds_device.domain.timestamps import parse_timestamp

# Bounded: a few seconds on a loaded machine.
# Health checks (speed, data size) are about the strategies, not the parser: a loaded CI
# machine must not fail on them; a property violation still fails.
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))

#: Every code point, lone surrogates included (JSON can carry them as escapes).
any_char = st.characters(codec=None, exclude_categories=())
any_text = st.text(any_char, max_size=30)
digit_like = st.sampled_from(["²", "٣", "１２", "Ⅻ", "1_000", "0x10", " 7 ", "-0", "+5", "1e3"])
huge_numbers = (
    st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(1, 6000).map(lambda n: "9" * n)
)


@st.composite
def extreme_times(draw: st.DrawFn) -> str:
    """ISO-8601 times from year 1 to 9999 with offsets up to +-23:59."""
    year = draw(st.integers(1, 9999))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
    zone = draw(
        st.sampled_from(["Z", ""])
        | st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)).map(
            lambda t: f"{t[0]}{t[1]:02d}:{t[2]:02d}"
        )
    )
    return f"{year:04d}-{month:02d}-{day:02d}T23:59:59.999999{zone}"


scalars = st.none() | st.booleans() | any_text | digit_like | huge_numbers | extreme_times()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=20,
)
item_keys = ["name", "kitchenName", "plu", "quantity", "remark", "itemRemark", "subItems"]
items = st.dictionaries(st.sampled_from(item_keys), json_values, max_size=6)
order_keys = [
    "orderId",
    "_id",
    "status",
    "orderType",
    "channel",
    "channelOrderDisplayId",
    "pickupTime",
    "estimatedPickupTime",
    "deliveryTime",
    "_created",
    "deliveryIsAsap",
    "note",
    "table",
    "customer",
]
orders = st.fixed_dictionaries(
    {"orderId": st.one_of(any_text, huge_numbers, st.none())},
    optional={
        "items": st.lists(items | json_values, max_size=4) | json_values,
        **{key: json_values | extreme_times() | digit_like for key in order_keys[1:]},
    },
)


def _usable_id(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return False
    text = str(value) if isinstance(value, int) else value
    controls = any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
    # Only spaces and dots ("." and ".." cannot travel as a URL path segment) is no id.
    dots = all(ch.isspace() or ch == "." for ch in text)
    return bool(text.strip()) and len(text) <= MAX_ORDER_ID and not controls and not dots


@PROPERTY
@given(orders)
def test_any_object_is_an_order_with_named_problems_or_refused_for_its_id(
    payload: dict[str, Any],
) -> None:
    try:
        parsed = parse_webhook(payload)
    except OrderPayloadError as error:
        assert error.field in ("orderId", "_id"), error
        named = "orderId" if payload.get("orderId") is not None else "_id"
        assert not _usable_id(payload.get(named))
        return
    assert parsed.order_id and len(parsed.order_id) <= MAX_ORDER_ID
    if isinstance(parsed, Cancel):
        return
    assert isinstance(parsed, Order)
    for problem in parsed.problems:
        assert problem.field and problem.reason and problem.flag
    for moment in (parsed.pickup_time, parsed.delivery_time, parsed.estimated_pickup_time):
        assert moment is None or moment.year in PLAUSIBLE_YEARS
    lines = ticket_lines(parsed)
    assert all(isinstance(line.label(), str) for line in lines)
    assert all(count > 0 for count in item_totals(parsed).values())
    if not parsed.items:
        assert "NO ITEMS - check the tablet" in parsed.notices


@PROPERTY
@given(extreme_times() | huge_numbers | any_text)
def test_a_time_is_a_utc_datetime_or_a_value_error(value: object) -> None:
    try:
        moment = parse_timestamp(value)
    except ValueError:
        return
    assert moment is None or moment.tzinfo is UTC
    assert moment is None or datetime.min.replace(tzinfo=UTC) <= moment
