"""The feed cursor: where the poller asks from, and when MQTT reveals a gap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kds_device.adapters.event_poller import FeedCursor
from kds_device.adapters.gateway_client import EventBatch
from kds_device.domain.events import Event


def _batch(*seqs: int, last: int | None = None, skipped: int = 0) -> EventBatch:
    events = tuple(Event(seq, "loc", "order.status") for seq in seqs)
    return EventBatch(events, last if last is not None else max(seqs, default=0), None, skipped)


def test_mqtt_in_order_moves_the_cursor_and_duplicates_do_not() -> None:
    cursor = FeedCursor(10)
    assert cursor.note_mqtt(11) is False
    assert cursor.note_mqtt(11) is False
    assert cursor.note_mqtt(5) is False
    assert cursor.value == 11 and not cursor.has_gap


def test_a_jump_is_a_gap_until_http_fills_it() -> None:
    cursor = FeedCursor(10)
    assert cursor.note_mqtt(13) is True
    assert cursor.value == 10 and cursor.has_gap
    cursor.note_http(_batch(11, 12, 13))
    assert cursor.value == 13 and not cursor.has_gap


def test_the_missing_one_arriving_late_on_mqtt_closes_the_gap() -> None:
    cursor = FeedCursor(10)
    cursor.note_mqtt(12)
    cursor.note_mqtt(13)
    assert cursor.note_mqtt(11) is False
    assert cursor.value == 13 and not cursor.has_gap


def test_http_holes_are_pruned_events_and_the_answer_is_the_truth() -> None:
    cursor = FeedCursor(10)
    cursor.note_mqtt(14)
    cursor.note_http(_batch(12, 13))  # 11 was pruned at the gateway
    assert cursor.value == 14 and not cursor.has_gap


def test_an_answer_of_only_junk_is_skipped_not_fetched_forever() -> None:
    cursor = FeedCursor(3)
    cursor.note_http(_batch(last=7, skipped=4))
    assert cursor.value == 7
    cursor.note_http(_batch(last=9))  # nothing returned, nothing skipped: do not jump
    assert cursor.value == 7


@given(st.permutations(list(range(1, 40))))
def test_any_delivery_order_ends_at_the_newest(order: list[int]) -> None:
    cursor = FeedCursor(0)
    for seq in order:
        cursor.note_mqtt(seq)
    assert cursor.value == 39 and not cursor.has_gap
