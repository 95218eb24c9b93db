"""Ticket lines cut into drawn rows (pure, with a fake font: every character is 10 px)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kds_device.domain.lines import LineKind, TicketLine, allergy_pattern
from kds_device.ui.body_rows import HYPHEN, NBSP, count_rows, line_rows
from kds_device.ui.header_fit import plain


def measure(text: str) -> float:
    return 10.0 * len(text)


def drawn(rows: list[str]) -> list[str]:
    return [plain(row) for row in rows]


def test_continuation_rows_keep_a_hanging_indent() -> None:
    line = TicketLine(LineKind.MODIFIER, "Sriracha mayo on the side", depth=1, quantity=3)
    rows = drawn(line_rows(line, None, 160, measure))
    # "+ 3x " is the prefix (after one depth level): later rows start under the text
    assert rows[0].startswith(NBSP * 3 + "+ 3x Sriracha")
    prefix = len(NBSP * 3 + "+ 3x ")
    assert len(rows) >= 3
    for row in rows[1:]:
        assert row.startswith(NBSP * prefix) and not row[prefix].isspace(), row
        assert not row.lstrip(NBSP).startswith("+"), "never reads as a new modifier"
    assert " ".join(r.strip(NBSP) for r in rows).endswith("mayo on the side")


def test_an_item_wraps_under_its_name_not_under_its_quantity() -> None:
    line = TicketLine(LineKind.ITEM, "Sweet Potato Fries", quantity=2)
    rows = drawn(line_rows(line, None, 165, measure))
    assert rows[0] == "2x  Sweet Potato"
    assert rows[1] == NBSP * 4 + "Fries"


def test_a_long_word_breaks_visibly_and_the_text_is_unchanged() -> None:
    word = "Supercalifragilisticexpialidocious"
    line = TicketLine(LineKind.REMARK, f"extra {word} please", depth=1)
    rows = drawn(line_rows(line, None, 150, measure))
    assert all(measure(r) <= 150 for r in rows), rows
    broken = [r for r in rows if r.endswith(HYPHEN)]
    assert broken, "a hyphen marks each break"
    joined = "".join(r.strip(NBSP).removesuffix(HYPHEN) for r in rows if r.strip(NBSP))
    assert word in joined.replace(" ", "") and " ".join(rows).count(" he re") == 0
    assert line.text == f"extra {word} please", "the order's text is not touched"


def test_order_text_never_becomes_markup() -> None:
    line = TicketLine(LineKind.ITEM, "[b]x[/b] & [color=ff0000]y", quantity=2)
    markup = "".join(line_rows(line, None, 1000, measure))
    assert "[b]x" not in markup and "&bl;b&br;x" in markup and "&amp;" in markup


def test_allergy_words_stand_out_and_void_strikes() -> None:
    pattern = allergy_pattern(["nut"])
    line = TicketLine(LineKind.REMARK, "no nut please", depth=1, allergy=True)
    markup = "".join(line_rows(line, pattern, 1000, measure))
    assert "NUT" in markup and "⚠" in markup and "[b]NUT[/b]" in markup
    void = line_rows(line, pattern, 1000, measure, voided=True)
    assert all(r.startswith("[s]") for r in void) and "[color" not in "".join(void)
    assert "no nut please" in plain("".join(void)) and "⚠" in "".join(void)


def test_right_to_left_rows_read_right_to_left_in_their_font() -> None:
    from kds_device.ui import scripts

    scripts.AVAILABLE.update({"KdsHebrew", "KdsCJK"})
    scripts._cache.clear()
    line = TicketLine(LineKind.ITEM, "שווארמה גדולה", quantity=1)
    markup = line_rows(line, None, 1000, measure)[0]
    assert "[font=KdsHebrew]" in markup
    # display order: the last logical word is drawn first (leftmost), letters reversed
    shown = plain(markup)
    assert shown.index("הלודג") < shown.index("המראווש")
    assert "[font=KdsCJK]" in line_rows(TicketLine(LineKind.NOTE, "寿司"), None, 999, measure)[0]


def test_all_day_names_wrap_with_a_hanging_indent() -> None:
    rows = drawn(count_rows(" 12", "Smokehouse Burger Deluxe", 180, measure))
    assert rows[0].startswith(" 12  Smokehouse")
    assert all(r.startswith(NBSP * 5) for r in rows[1:]) and len(rows) >= 2


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=40), max_size=12),
    room=st.integers(min_value=160, max_value=400),  # wider than the deepest prefix
    depth=st.integers(min_value=0, max_value=2),
)
def test_rows_fit_and_lose_no_letter(words: list[str], room: int, depth: int) -> None:
    line = TicketLine(LineKind.MODIFIER, " ".join(words), depth=depth + 1, quantity=2)
    rows = drawn(line_rows(line, None, room, measure))
    assert all(measure(r) <= room for r in rows), rows
    text = "".join(
        r.strip(NBSP).removesuffix(HYPHEN) if r.endswith(HYPHEN) else r.strip(NBSP) + " "
        for r in rows
    )
    assert text.split() == ["+", "2x", *words], "every letter, in order, nothing added"
