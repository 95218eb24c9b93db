"""``backoff_s`` and ``parse_retry_after``: the pure parts of the Deliverect client."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from kds_device.gateway.deliverect_client import backoff_s, parse_retry_after

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC).timestamp()


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0


def test_retry_after_as_http_date() -> None:
    later = datetime(2026, 11, 22, 18, 0, 30, tzinfo=UTC)
    assert parse_retry_after(format_datetime(later, usegmt=True), now=NOW) == 30.0
    assert parse_retry_after("Sun, 22 Nov 2026 17:59:00 GMT", now=NOW) == 0.0


def test_missing_or_unreadable_retry_after_is_none() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    assert [backoff_s(n, None, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert [backoff_s(n, None, rand=lambda: 0.0) for n in (1, 2, 3, 4)] == [0.5, 1, 2, 4]
    assert backoff_s(30, None, rand=lambda: 1.0) == 300.0
    assert backoff_s(10_000, None, base=2.0, cap=60.0, rand=lambda: 0.0) == 30.0


@given(
    attempt=st.integers(min_value=-5, max_value=10_000),
    retry_after=st.none() | st.floats(min_value=0, max_value=86_400),
    jitter=st.floats(min_value=0, max_value=1),
)
def test_backoff_never_beats_retry_after_nor_exceeds_the_cap(
    attempt: int, retry_after: float | None, jitter: float
) -> None:
    delay = backoff_s(attempt, retry_after, rand=lambda: jitter)
    assert 0.5 <= delay <= max(300.0, retry_after or 0.0)
    if retry_after is not None:
        assert delay >= retry_after
