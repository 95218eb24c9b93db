"""The one parser, on the payload corpus in tests/data/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kds_device.domain import (
    Cancel,
    Order,
    OrderPayloadError,
    OrderType,
    parse_webhook,
    ticket_lines,
)
from kds_device.domain.lines import LineKind, allergy_pattern, item_totals
from kds_device.domain.timestamps import parse_timestamp
from kds_device.sim.orders import OrderGenerator

DATA = Path(__file__).parent.parent / "data"


def load(name: str) -> object:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def order(name: str) -> Order:
    parsed = parse_webhook(load(name))
    assert isinstance(parsed, Order)
    return parsed


def test_reference_order_reads_like_the_kitchen_reads_it() -> None:
    parsed = order("order_delivery_nested")
    assert parsed.order_id == "66a1f0e2d3c4b5a697887766"
    assert parsed.display_id == "8F3K2"
    assert parsed.order_type is OrderType.DELIVERY
    assert parsed.brand == "Smoke & Bun"
    assert parsed.customer_name == "Lena K."
    assert parsed.channel == 7
    assert parsed.promised_time == datetime(2025, 11, 22, 18, 45, tzinfo=UTC)
    lines = ticket_lines(parsed)
    labels = [line.label() for line in lines]
    assert labels[:4] == ["2  Smokehouse Burger", "» Cut in half", "+ Extra cheddar", "+ No onions"]
    cheddar = next(line for line in lines if line.text == "Extra cheddar")
    assert (cheddar.quantity, cheddar.total, cheddar.depth) == (1, 2, 1)
    dip = next(line for line in lines if line.text == "BBQ dip")
    assert (dip.quantity, dip.total, dip.depth) == (2, 2, 2)
    assert dip.label() == "+ 2x BBQ dip"
    assert lines[-1].kind is LineKind.NOTE


def test_quantities_multiply_three_levels_deep() -> None:
    lines = ticket_lines(order("order_nested_three_deep"))
    by_text = {line.text: line for line in lines}
    assert by_text["Smokehouse Meal"].total == 3
    assert by_text["Smokehouse Burger"].total == 3
    assert by_text["Extra cheddar"].total == 6
    assert by_text["Smoked"].total == 6 and by_text["Smoked"].depth == 3


@pytest.mark.parametrize(
    ("name", "kind", "label"),
    [
        ("order_type_1", OrderType.PICKUP, "Pickup"),
        ("order_delivery_nested", OrderType.DELIVERY, "Delivery"),
        ("order_type_3", OrderType.EAT_IN, "Eat-in"),
        ("order_type_4", OrderType.CURBSIDE, "Curbside"),
        ("order_type_5", OrderType.DRIVE_THROUGH, "Drive-thru"),
        ("order_type_9", OrderType.OTHER, "Other"),
    ],
)
def test_every_order_type(name: str, kind: OrderType, label: str) -> None:
    parsed = order(name)
    assert parsed.order_type is kind
    assert parsed.order_type.label == label


def test_eat_in_has_its_table() -> None:
    assert order("order_type_3").table == "12"


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, datetime(2022, 3, 3, 13, 3, tzinfo=UTC)),
        (1, datetime(2025, 11, 22, 18, 45, 0, 123456, tzinfo=UTC)),
        (2, datetime(2023, 7, 14, 7, 44, 15, tzinfo=UTC)),
        (3, datetime(2025, 10, 9, 16, 9, 43, 691864, tzinfo=UTC)),
        (4, datetime(2025, 10, 9, 16, 9, 43, tzinfo=UTC)),
    ],
)
def test_every_timestamp_format(index: int, expected: datetime) -> None:
    assert order(f"order_timestamp_{index}").pickup_time == expected


def test_timestamp_edge_cases() -> None:
    assert parse_timestamp("") is None
    assert parse_timestamp("2025-01-01T10:00:00.1234567Z") == datetime(
        2025, 1, 1, 10, 0, 0, 123456, tzinfo=UTC
    )
    assert parse_timestamp(0) == datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp("22/11/2025 18:45")


def test_cancel_is_recognised() -> None:
    parsed = parse_webhook(load("cancel"))
    assert isinstance(parsed, Cancel)
    assert parsed.order_id == "66a1f0e2d3c4b5a697887766"
    assert parsed.reason == "Customer changed their mind"


def test_cancel_with_string_status_is_still_a_cancel() -> None:
    body = dict(load("cancel"))  # type: ignore[call-overload]
    body["status"] = "100"
    assert isinstance(parse_webhook(body), Cancel)


def test_remake_and_text_edge_cases_survive() -> None:
    assert order("order_remake").remake is True
    assert order("order_emoji").customer_name == "Zoë 🍔🔥"
    rtl = order("order_rtl")
    assert rtl.note == "بدون بصل من فضلك"
    assert "שניצל בלחמניה" in [line.text for line in ticket_lines(rtl)]
    long = order("order_long_words")
    assert long.items[0].name == "X" * 60


def test_allergy_words_are_flagged_whole_word() -> None:
    pattern = allergy_pattern(["nuts", "gluten"])
    lines = ticket_lines(order("order_long_words"), pattern)
    remark = next(line for line in lines if line.kind is LineKind.REMARK)
    assert remark.allergy is False  # "nutsZZZ" is not the word "nuts"
    note_order = order("order_delivery_nested")
    assert not any(line.allergy for line in ticket_lines(note_order, pattern))
    flagged = allergy_pattern(["bell"])
    assert ticket_lines(note_order, flagged)[-1].allergy is True


def test_150_items_and_all_day_totals() -> None:
    parsed = order("order_150_items")
    assert len(parsed.items) == 150
    totals = item_totals(parsed)
    assert totals["Product 0"] == 1 and totals["Product 2"] == 3


def test_minimal_order_gets_defaults() -> None:
    parsed = order("order_minimal")
    assert parsed.display_id == "imal-1"  # no display id: the tail of the order id
    assert parsed.order_type is OrderType.OTHER
    assert parsed.asap is True and parsed.promised_time is None
    assert parsed.items[0].quantity == 1


def test_pos_model_fallbacks() -> None:
    parsed = order("order_pos_model")
    assert parsed.order_id == "pos-model-1"
    assert parsed.items[0].name == "SHORT"  # kitchenName wins over name
    assert parsed.items[0].remark == "no salt"  # remark is the fallback for itemRemark
    assert parsed.items[0].tags == (1, 7)


REFUSED = json.loads((DATA / "bad_payloads.json").read_text(encoding="utf-8"))
FLAGGED = {
    name: case
    for name, case in json.loads((DATA / "flagged_payloads.json").read_text("utf-8")).items()
    if not name.startswith("_")
}


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("bad_not_object", "body"),
        ("bad_missing_id", "orderId"),
        ("bad_empty_id", "orderId"),
        ("bad_id_object", "orderId"),
        ("bad_id_boolean", "orderId"),
        ("bad_id_too_long", "orderId"),
        ("bad_id_control_character", "orderId"),
    ],
)
def test_only_what_cannot_be_an_order_is_refused_naming_the_field(name: str, field: str) -> None:
    with pytest.raises(OrderPayloadError) as error:
        parse_webhook(REFUSED[name])
    assert error.value.field == field


@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_an_order_with_problems_is_read_and_each_problem_flagged(name: str) -> None:
    case = FLAGGED[name]
    parsed = parse_webhook(case["payload"])
    assert isinstance(parsed, Order)
    assert parsed.order_id == case["payload"]["orderId"]
    assert [[p.field, p.flag] for p in parsed.problems] == case["problems"]
    assert all(p.reason for p in parsed.problems)


def test_flags_land_where_the_problem_is() -> None:
    parsed = parse_webhook(FLAGGED["negative_quantity"]["payload"])
    assert isinstance(parsed, Order)
    labels = [line.label() for line in ticket_lines(parsed)]
    assert labels == ["?  Burger  CHECK qty -1", "1  Fries"]
    assert item_totals(parsed) == {"Fries": 1}  # the unreadable count is not counted
    modifier = parse_webhook(FLAGGED["modifier_quantity"]["payload"])
    assert isinstance(modifier, Order)
    assert [line.label() for line in ticket_lines(modifier)] == [
        "1  Burger",
        "+ Cheese  CHECK qty -2",
    ]


def test_order_wide_problems_head_the_ticket_once() -> None:
    for name in ("items_missing", "items_empty", "items_string"):
        parsed = parse_webhook(FLAGGED[name]["payload"])
        assert isinstance(parsed, Order)
        lines = ticket_lines(parsed)
        assert [(line.kind, line.label()) for line in lines] == [
            (LineKind.PROBLEM, "NO ITEMS - check the tablet")
        ]
    both = parse_webhook(
        {"orderId": "t", "pickupTime": 1e20, "deliveryTime": "soon", "items": [{"name": "A"}]}
    )
    assert isinstance(both, Order)
    assert both.pickup_time is None and both.delivery_time is None
    assert [line.label() for line in ticket_lines(both)] == ["time?", "1  A"]


def test_out_of_range_times_are_value_errors_not_crashes() -> None:
    extremes = (1e20, 10**30, -(10**30), "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00")
    for value in extremes:
        with pytest.raises(ValueError):
            parse_timestamp(value)
    with pytest.raises(ValueError):
        parse_timestamp("２０２５-01-01T10:00:00Z")  # full-width digits are not a time


def test_hostile_nesting_is_cut_and_flagged_not_recursed() -> None:
    item: dict[str, object] = {"name": "leaf", "quantity": 1}
    for _ in range(500):
        item = {"name": "level", "quantity": 1, "subItems": [item]}
    parsed = parse_webhook({"orderId": "deep", "items": [item]})
    assert isinstance(parsed, Order)
    assert [p.flag for p in parsed.problems] == ["CHECK modifiers"]
    assert "nested deeper" in parsed.problems[0].reason
    assert len(ticket_lines(parsed)) == 8


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["orderId", "items", "orderType", "pickupTime", "status", "note", "channel", "table"]
        ),
        json_values,
    )
)
def test_any_json_is_an_order_or_a_named_error(payload: dict[str, object]) -> None:
    try:
        parsed = parse_webhook(payload)
    except OrderPayloadError as error:
        assert error.field in ("orderId", "_id")  # only a missing or unusable id refuses
    else:
        assert parsed.order_id


def test_realistic_orders_are_never_flagged() -> None:
    generator = OrderGenerator(seed=7)
    for _ in range(300):
        parsed = parse_webhook(generator.order())
        assert isinstance(parsed, Order)
        assert parsed.problems == ()
    for path in sorted(DATA.glob("order_*.json")):
        assert order(path.stem).problems == (), path.name
