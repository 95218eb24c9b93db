"""Long tickets continue in the next column; nothing is cut."""

from __future__ import annotations

import pytest

from kds_device.domain import LayoutSpec, paginate


def lines_shown(pages: list, order_id: str) -> list[int]:  # type: ignore[type-arg]
    shown: list[int] = []
    for page in pages:
        for column in page:
            for segment in column:
                if segment.order_id == order_id:
                    shown.extend(range(segment.first, segment.last))
    return shown


def test_short_tickets_share_a_column_and_never_split() -> None:
    spec = LayoutSpec(columns=3, rows=12, header_rows=3)
    pages = paginate([("a", [1, 1]), ("b", [1, 1, 1]), ("c", [1] * 4)], spec)
    first_column = pages[0][0]
    assert [s.order_id for s in first_column] == ["a", "b"]  # 5 + 6 rows
    assert [s.order_id for s in pages[0][1]] == ["c"]  # 7 rows would not fit the 1 left
    assert all(not s.continued and not s.continues for col in pages[0] for s in col)


def test_long_ticket_continues_in_next_columns_with_every_line() -> None:
    spec = LayoutSpec(columns=2, rows=10, header_rows=3, continued_header_rows=1)
    pages = paginate([("short", [1, 1]), ("long", [1] * 30)], spec)
    assert lines_shown(pages, "long") == list(range(30))
    segments = [s for page in pages for col in page for s in col if s.order_id == "long"]
    assert segments[0].continues and not segments[0].continued
    assert all(s.continued for s in segments[1:])
    assert not segments[-1].continues
    for page in pages:
        for column in page:
            assert sum(s.rows(spec, [1] * 30) for s in column if s.order_id == "long") <= 10


def test_wrapped_lines_count_their_rows() -> None:
    spec = LayoutSpec(columns=1, rows=10, header_rows=3)
    pages = paginate([("a", [3, 3, 3])], spec)
    assert [(s.first, s.last) for page in pages for col in page for s in col] == [(0, 2), (2, 3)]


def test_a_line_taller_than_a_column_still_shows() -> None:
    spec = LayoutSpec(columns=1, rows=6, header_rows=3)
    pages = paginate([("a", [20, 1])], spec)
    assert lines_shown(pages, "a") == [0, 1]


def test_empty_board_is_one_empty_page() -> None:
    assert paginate([], LayoutSpec()) == [((),)]


def test_layout_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        LayoutSpec(columns=1, rows=2, header_rows=3)
